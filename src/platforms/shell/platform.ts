import type { Readable } from 'node:stream';
import type { ChatPlatform } from '../../chat/platform.js';
import type { ChatInbound } from '../../chat/types.js';
import { ShellOutbound } from './outbound.js';
import { runShell } from './repl.js';
import { ShellScreen } from './screen.js';

/** Options of the shell platform: one local user at one terminal. */
export interface ShellPlatformOptions {
  /** Local user name: the identity `shell:local:NAME`. */
  user: string;
  input: Readable;
  output: NodeJS.WritableStream;
  /** Prompt shown before each line. Default `NAME> `. */
  prompt?: string;
  /** Printed once at `start`, before the first prompt. Default none. */
  banner?: string;
}

/**
 * The terminal as a chat platform (`onbehalf shell`, `onbehalf demo`): `start(core)` begins the
 * REPL, `finished` resolves when its input ends, and what the bot says is printed to `output`.
 * Its outbound only works in the process that runs the terminal.
 */
export class ShellPlatform implements ChatPlatform {
  readonly name = 'shell' as const;
  readonly outbound: ShellOutbound;
  readonly #o: ShellPlatformOptions;
  readonly #abort = new AbortController();
  readonly #screen: ShellScreen;
  #session: Promise<void> | undefined;

  constructor(o: ShellPlatformOptions) {
    this.#o = o;
    this.#screen = new ShellScreen(o.output);
    this.outbound = new ShellOutbound(this.#screen.stream);
  }

  async start(core: ChatInbound): Promise<void> {
    if (this.#o.banner) this.#o.output.write(this.#o.banner);
    const { user, input, output, prompt } = this.#o;
    this.#session = runShell({ core, user, input, output, prompt, signal: this.#abort.signal, screen: this.#screen });
  }

  /** Resolves when the person has left (end of input, `exit`) or `stop()` ended the session. */
  get finished(): Promise<void> {
    return this.#session ?? Promise.resolve();
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#session;
  }
}
