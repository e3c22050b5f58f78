import { createInterface } from 'node:readline';
import { Writable, type Readable } from 'node:stream';
import { Secret } from '../../crypto/index.js';
import type { ChatIdentity } from '../../identity/index.js';
import type { Ack, ChatInbound, OutMessage, ReplyTarget } from '../../chat/types.js';
import { renderShell } from './outbound.js';

/** Options of the terminal platform. */
export interface ShellOptions {
  core: ChatInbound;
  /** Local user name: the identity `shell:local:NAME`. */
  user: string;
  input: Readable;
  output: NodeJS.WritableStream;
  /** Prompt shown before each line. Default `NAME> `. */
  prompt?: string;
}

const render = (msg: OutMessage) => renderShell(msg);

/** The identity and reply target of a shell user. */
export function shellIdentity(user: string): { identity: ChatIdentity; target: ReplyTarget } {
  return {
    identity: { platform: 'shell', workspaceId: 'local', userId: user, displayName: user, workspaceName: 'local' },
    target: { platform: 'shell', workspaceId: 'local', channelId: 'shell', userId: user, isDirect: true },
  };
}

/**
 * A REPL: each line is a message, or a `/onbehalf …` command, from `user` in workspace `local`.
 * Secret forms are read without echo. Resolves when input ends.
 */
export async function runShell(opts: ShellOptions): Promise<void> {
  let muted = false;
  const echo = new Writable({
    write(chunk, _enc, cb) {
      if (!muted) opts.output.write(chunk);
      cb();
    },
  });
  const terminal = Boolean((opts.input as { isTTY?: boolean }).isTTY);
  const rl = createInterface({ input: opts.input, output: echo, terminal, prompt: opts.prompt ?? `${opts.user}> ` });
  const lines = rl[Symbol.asyncIterator]();
  const { identity, target } = shellIdentity(opts.user);
  const print = (s: string) => opts.output.write(s.replace(/\n/g, '\n  ') + '\n');
  let n = 0;

  const next = async (): Promise<string | undefined> => {
    const r = await lines.next();
    return r.done ? undefined : r.value;
  };

  const show = async (ack: Ack): Promise<void> => {
    if (ack?.private) print(`onbehalf (only you): ${render(ack.private)}`);
    if (ack?.form) {
      const values: Record<string, Secret> = {};
      for (const f of ack.form.fields) {
        opts.output.write(`${f.label} (hidden): `);
        muted = terminal;
        const v = await next();
        muted = false;
        if (terminal) opts.output.write('\n');
        values[f.id] = new Secret((v ?? '').trim());
      }
      await show(await opts.core.handle({ kind: 'form_submit', identity, target, formId: ack.form.formId, values }));
    }
  };

  rl.prompt();
  for (let line = await next(); line !== undefined; line = await next()) {
    const text = line.trim();
    if (text === 'exit' || text === 'quit') break;
    if (text) {
      const eventId = `shell-${process.pid}-${Date.now()}-${n++}`;
      try {
        const ack = text.startsWith('/')
          ? text.match(/^\/onbehalf(\s|$)/)
            ? await opts.core.handle({
                kind: 'command',
                identity,
                target,
                text: text.replace(/^\/onbehalf\s*/, ''),
                eventId,
              })
            : {
                private: {
                  text: `Unknown command "${text.split(/\s/)[0]}". Commands start with /onbehalf; try /onbehalf help.`,
                },
              }
          : await opts.core.handle({ kind: 'message', identity, target, text, eventId });
        await show(ack);
      } catch (err) {
        print(`onbehalf: that did not work (${(err as Error).message.split('\n')[0]}). Try again.`);
      }
    }
    rl.prompt();
  }
  rl.close();
}
