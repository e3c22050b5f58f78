import { createInterface, type Interface } from 'node:readline';
import { Writable, type Readable } from 'node:stream';
import { Secret } from '../../crypto/index.js';
import type { ChatIdentity } from '../../identity/index.js';
import type { Ack, ChatInbound, FormField, ReplyTarget } from '../../chat/types.js';
import { renderShell } from './outbound.js';
import { ShellScreen } from './screen.js';

/** Options of the terminal platform. */
export interface ShellOptions {
  core: ChatInbound;
  /** Local user name: the identity `shell:local:NAME`. */
  user: string;
  input: Readable;
  output: NodeJS.WritableStream;
  /** Prompt shown before each line. Default `NAME> `. */
  prompt?: string;
  /** Aborting it ends the session as the end of input does. Default none. */
  signal?: AbortSignal;
  /** Shared with the outbound, so messages that arrive later redraw the prompt. Default one of its own on `output`. */
  screen?: ShellScreen;
}

/** The identity and reply target of a shell user. */
export function shellIdentity(user: string): { identity: ChatIdentity; target: ReplyTarget } {
  return {
    identity: { platform: 'shell', workspaceId: 'local', userId: user, displayName: user, workspaceName: 'local' },
    target: { platform: 'shell', workspaceId: 'local', channelId: 'shell', userId: user, isDirect: true },
  };
}

/** One terminal session: its readline, and whether echo is muted (a hidden value being typed). */
class Session {
  muted = false;
  readonly terminal: boolean;
  readonly rl: Interface;
  readonly screen: ShellScreen;
  readonly #lines: AsyncIterator<string>;
  #n = 0;

  constructor(readonly o: ShellOptions) {
    const echo = new Writable({
      write: (chunk, _enc, cb) => {
        if (!this.muted) o.output.write(chunk);
        cb();
      },
    });
    this.terminal = Boolean((o.input as { isTTY?: boolean }).isTTY);
    this.rl = createInterface({
      input: o.input,
      output: echo,
      terminal: this.terminal,
      prompt: o.prompt ?? `${o.user}> `,
      signal: o.signal,
    });
    this.screen = o.screen ?? new ShellScreen(o.output);
    if (this.terminal) this.screen.attach(this.rl);
    this.#lines = this.rl[Symbol.asyncIterator]();
  }

  async next(): Promise<string | undefined> {
    const r = await this.#lines.next();
    return r.done ? undefined : r.value;
  }

  print(s: string): void {
    this.o.output.write(s.replace(/\n/g, '\n  ') + '\n');
  }

  eventId(): string {
    return `shell-${process.pid}-${Date.now()}-${this.#n++}`;
  }
}

/** How a field is asked for: `Age (a whole number, default 30, required): `; a hidden one says so. */
function fieldPrompt(f: FormField): string {
  const about = [f.hint, f.initial !== undefined ? `default ${f.initial}` : '', f.required ? 'required' : '']
    .filter(Boolean)
    .join(', ');
  const hidden = f.hidden !== false;
  return `${f.label}${about ? ` (${about})` : ''}${hidden ? ' (hidden)' : ''}: `;
}

/** Shows an answer; a form is read field by field (hidden ones without echo; Enter keeps a default), then submitted. */
async function show(s: Session, ack: Ack): Promise<void> {
  const { identity, target } = shellIdentity(s.o.user);
  if (ack?.private) s.print(`onbehalf (only you): ${renderShell(ack.private)}`);
  if (!ack?.form) return;
  const values: Record<string, Secret> = {};
  if (ack.form.note) s.print(`onbehalf (only you): ${ack.form.note}`);
  for (const f of ack.form.fields) {
    s.o.output.write(fieldPrompt(f));
    s.muted = s.terminal && f.hidden !== false;
    const v = f.multiline ? await pasted(s) : await s.next();
    s.muted = false;
    if (s.terminal) s.o.output.write('\n');
    values[f.id] = new Secret((v ?? '').trim());
  }
  await show(s, await s.o.core.handle({ kind: 'form_submit', identity, target, formId: ack.form.formId, values }));
}

/** A multi-line value: a pasted PEM block is read to its END line (so no key line is taken as a command). */
async function pasted(s: Session): Promise<string | undefined> {
  let v = await s.next();
  while (v !== undefined && /^\s*-----BEGIN /.test(v) && !/-----END /.test(v)) {
    const more = await s.next();
    if (more === undefined) break;
    v += `\n${more}`;
  }
  return v;
}

/** One typed line: a `/onbehalf …` command, another `/…` (refused here), or a message. */
async function answer(s: Session, text: string): Promise<Ack> {
  const { identity, target } = shellIdentity(s.o.user);
  const eventId = s.eventId();
  if (!text.startsWith('/')) return s.o.core.handle({ kind: 'message', identity, target, text, eventId });
  if (!text.match(/^\/onbehalf(\s|$)/))
    return {
      private: {
        text: `Unknown command "${text.split(/\s/)[0]}". Commands start with /onbehalf; try /onbehalf help.`,
      },
    };
  return s.o.core.handle({ kind: 'command', identity, target, text: text.replace(/^\/onbehalf\s*/, ''), eventId });
}

/**
 * A REPL: each line is a message, or a `/onbehalf …` command, from `user` in workspace `local`.
 * Secret forms are read without echo. Resolves when input ends (or `signal` aborts).
 */
export async function runShell(opts: ShellOptions): Promise<void> {
  const s = new Session(opts);
  s.screen.prompt(s.rl);
  for (let line = await s.next(); line !== undefined; line = await s.next()) {
    const text = line.trim();
    if (text === 'exit' || text === 'quit') break;
    if (text) {
      try {
        await show(s, await answer(s, text));
      } catch (err) {
        s.print(`onbehalf: that did not work (${(err as Error).message.split('\n')[0]}). Try again.`);
      }
    }
    s.screen.prompt(s.rl);
  }
  s.rl.close();
}
