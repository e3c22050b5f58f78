import type { ChatOutbound, OutMessage, ReplyTarget, SecretForm, TurnRenderer } from '../../chat/types.js';

/**
 * A message as terminal text: a link as `→ label: url`; each action button as the command line
 * the person types instead of clicking (`→ Approve: /onbehalf approve <id>`).
 */
export function renderShell(msg: OutMessage): string {
  let out = msg.link ? `${msg.text}\n  → ${msg.link.label}: ${msg.link.url}` : msg.text;
  for (const a of msg.actions ?? []) if (a.id === 'command') out += `\n  → ${a.label}: /onbehalf ${a.value}`;
  return out;
}
const render = renderShell;

/**
 * Prints what the bot says to the terminal of the shell user it is for. Only meaningful in the
 * process that runs the shell. `out` is one stream, or one per local user name.
 */
export class ShellOutbound implements ChatOutbound {
  #next = 1;
  constructor(private readonly out: NodeJS.WritableStream | ((user: string) => NodeJS.WritableStream | undefined)) {}

  #print(user: string, prefix: string, msg: OutMessage): string {
    const id = String(this.#next++);
    const stream = typeof this.out === 'function' ? this.out(user) : this.out;
    stream?.write(`${prefix}${render(msg).replace(/\n/g, '\n  ')}\n`);
    return id;
  }
  async reply(t: ReplyTarget, msg: OutMessage) {
    return { messageId: this.#print(t.userId, 'onbehalf: ', msg) };
  }
  async replyPrivately(t: ReplyTarget, msg: OutMessage) {
    this.#print(t.userId, 'onbehalf (only you): ', msg);
  }
  async direct(_w: string, user: string, msg: OutMessage) {
    this.#print(user, 'onbehalf (direct message): ', msg);
  }
  async openSecretForm(t: ReplyTarget, form: SecretForm) {
    this.#print(t.userId, 'onbehalf (only you): ', { text: `${form.title}: run the command again to enter it.` });
  }
  async update(t: ReplyTarget, messageId: string, msg: OutMessage) {
    this.#print(t.userId, `onbehalf (update of #${messageId}): `, msg);
  }
  /** A turn as it happens: one line per tool call step as it happens, then the answer (printed whole). */
  turn(t: ReplyTarget): TurnRenderer {
    return {
      status: async () => {},
      task: async (e) => void this.#print(t.userId, 'onbehalf · ', { text: e.line }),
      text: async () => {},
      finish: async (msg) => void (await this.reply(t, msg)),
    };
  }
}
