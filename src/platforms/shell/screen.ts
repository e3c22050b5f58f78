import { clearLine, cursorTo, type Interface } from 'node:readline';
import { Writable } from 'node:stream';

/**
 * The terminal the REPL and the outbound share. A message that arrives while the person sits at
 * the prompt (a result, a "connected" notice) is printed above it, and the prompt is drawn again
 * with what they had typed so far; otherwise it would land after the prompt and leave none.
 */
export class ShellScreen {
  #rl: Interface | undefined;
  #atPrompt = false;
  /** Each write is one whole message of the outbound. */
  readonly stream: Writable;

  constructor(readonly output: NodeJS.WritableStream) {
    this.stream = new Writable({
      write: (chunk, _enc, cb) => {
        this.#print(String(chunk));
        cb();
      },
    });
  }

  /** The REPL's readline on a terminal (without one there is no prompt line to redraw). */
  attach(rl: Interface): void {
    this.#rl = rl;
    // The line is taken as soon as Enter is read, before the REPL gets to it.
    rl.on('line', () => (this.#atPrompt = false));
    rl.on('close', () => (this.#rl = undefined));
  }

  /** Shows the prompt and waits there for the next line. */
  prompt(rl: Interface): void {
    this.#atPrompt = true;
    rl.prompt();
  }

  #print(text: string): void {
    const rl = this.#rl;
    if (!rl || !this.#atPrompt) {
      this.output.write(text);
      return;
    }
    cursorTo(this.output, 0);
    clearLine(this.output, 0);
    this.output.write(text);
    rl.prompt(true);
  }
}
