import type { ChatOutbound, OutMessage, ReplyTarget, SecretForm } from '../../chat/types.js';

const render = (msg: OutMessage) =>
  [msg.text, ...(msg.link ? [`  → ${msg.link.label}: ${msg.link.url}`] : []), ...(msg.commands ?? []).map((b) => `  → ${b.label}: type /onbehalf ${b.command}`)].join('\n');

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
}
