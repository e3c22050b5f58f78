import { PassThrough, Writable } from 'node:stream';
import { vi } from 'vitest';
import type { ChatInbound } from '../../src/chat/index.js';
import { runShell, ShellScreen } from '../../src/platforms/shell/index.js';

const READY = '§ready§';

/** How the session's terminal looks: a TTY (readline edits the line, echoes it) and its prompt. */
export interface ShellSessionOptions {
  /** Default false: piped input, as most tests type. */
  tty?: boolean;
  /** Default a marker line `send` waits for. */
  prompt?: string;
}

/** One local user typing into the real shell platform; everything shown to them is in `output`. */
export class ShellSession {
  output = '';
  /** Where the shell's outbound prints to this user (messages that arrive later). */
  readonly stream: Writable;
  readonly #input = new PassThrough();
  readonly #done: Promise<void>;

  constructor(
    core: ChatInbound,
    readonly user: string,
    o: ShellSessionOptions = {},
  ) {
    const output = new Writable({
      write: (chunk, _e, cb) => {
        this.output += chunk.toString();
        cb();
      },
    });
    if (o.tty) Object.assign(this.#input, { isTTY: true });
    const screen = new ShellScreen(output);
    this.stream = screen.stream;
    this.#done = runShell({ core, user, input: this.#input, output, prompt: o.prompt ?? `${READY}\n`, screen });
  }

  /** Types `text` without pressing Enter. */
  type(text: string): void {
    this.#input.write(text);
  }

  /** Types a line and returns what the shell printed until it was ready for the next one. */
  async send(line: string, timeoutMs = 15_000): Promise<string> {
    const from = this.output.length;
    this.#input.write(line + '\n');
    // Ready for the next line: the prompt, or a hidden-value prompt of a secret form.
    await vi.waitFor(
      () => {
        const out = this.output.slice(from);
        if (!out.includes(READY) && !/\): $/.test(out))
          throw new Error(`no answer to "${line.slice(0, 60)}" within ${timeoutMs} ms; output:\n${out}`);
      },
      { timeout: timeoutMs, interval: 10 },
    );
    const end = this.output.indexOf(READY, from);
    return this.output.slice(from, end === -1 ? undefined : end).trim();
  }

  /** Waits until output written after `from` matches `re` (results posted later by workers). */
  async waitFor(re: RegExp, from = 0, timeoutMs = 15_000): Promise<RegExpMatchArray> {
    return vi.waitFor(
      () => {
        const m = this.output.slice(from).match(re);
        if (!m) throw new Error(`no output matching ${re} within ${timeoutMs} ms; output:\n${this.output.slice(from)}`);
        return m;
      },
      { timeout: timeoutMs, interval: 20 },
    );
  }

  async close(): Promise<void> {
    this.#input.end();
    await this.#done;
  }
}
