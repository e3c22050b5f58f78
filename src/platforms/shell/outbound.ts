import type { Writable } from 'node:stream';
import type { ChatOutbound, OutMessage, ReplyTarget, SecretForm } from '../../chat/types.js';

const render = (msg: OutMessage) => (msg.link ? `${msg.text}\n  → ${msg.link.label}: ${msg.link.url}` : msg.text);

/** Prints what the bot says to the terminal. Only meaningful in the process that runs the shell. */
export class ShellOutbound implements ChatOutbound {
  #next = 1;
  constructor(private readonly out: Writable) {}

  #print(prefix: string, msg: OutMessage): string {
    const id = String(this.#next++);
    this.out.write(`${prefix}${render(msg).replace(/\n/g, '\n  ')}\n`);
    return id;
  }
  async reply(_t: ReplyTarget, msg: OutMessage) {
    return { messageId: this.#print('onbehalf: ', msg) };
  }
  async replyPrivately(_t: ReplyTarget, msg: OutMessage) {
    this.#print('onbehalf (only you): ', msg);
  }
  async direct(_w: string, user: string, msg: OutMessage) {
    this.#print(`onbehalf (direct to ${user}): `, msg);
  }
  async openSecretForm(_t: ReplyTarget, form: SecretForm) {
    this.#print('onbehalf (only you): ', { text: `${form.title}: run the command again to enter it.` });
  }
  async update(_t: ReplyTarget, messageId: string, msg: OutMessage) {
    this.#print(`onbehalf (update of #${messageId}): `, msg);
  }
}
