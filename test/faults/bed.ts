import { sql } from 'drizzle-orm';
import type { AppOptions } from '../../src/app.js';
import type { Ack } from '../../src/chat/types.js';
import { shellIdentity } from '../../src/platforms/shell/index.js';
import type { RunnerTuning } from '../../src/runner/index.js';
import type { TestApp } from '../support/app.js';
import { world, type WorldOptions } from '../support/world.js';
import { RecordingNotifier } from '../runner/harness.js';

export { until } from '../runner/processes.js';

/** A `tool_calls` row as the drills read it (raw SQLite, so the check does not trust our own store code). */
export interface CallRowView {
  id: string;
  status: string;
  request_id: string;
  outcome: string | null;
}

/** What the caller saw when sending one command: the reply, or the error their platform showed. */
export type Sent = { ok: true; requestId: string; reply: string } | { ok: false; requestId: string; error: string };

/**
 * The world (the real product in `serve` mode, in-process tool workers, its loopback OAuth and MCP
 * peers) with the runner's chat seam recorded, and a member `run` through the chat core exactly as a
 * platform calls it. Each drill brings the Redis it kills or shares (`REDIS_URL` in `env`). One per test file.
 */
export async function faultBed(
  env: Record<string, string>,
  o: {
    tuning?: RunnerTuning;
    startWorkers?: boolean;
    extra?: Omit<AppOptions, 'mode' | 'logDestination' | 'runner'>;
    /** Who and what the world holds up front (shell users, provider, MCP servers, peers' options). */
    world?: Pick<WorldOptions, 'users' | 'provider' | 'client' | 'oauth' | 'servers' | 'mcp' | 'connect' | 'shell'>;
  } = {},
) {
  const notifier = new RecordingNotifier();
  const w = await world({
    redis: false,
    shell: false,
    ...o.world,
    env: { LOG_LEVEL: 'info', ...env },
    app: {
      ...o.extra,
      shutdownGraceMs: 2000,
      runner: { notifier, tuning: { backoffMs: 50, ...o.tuning }, startWorkers: o.startWorkers ?? true },
    },
  });
  const t: TestApp = w.t;
  let n = 0;
  const app = t.app;
  const orgId = async () => (await app.identity.resolve(shellIdentity('admin').identity)).org.id;
  return {
    t,
    app,
    world: w,
    /** The loopback MCP server the world's `servers` use. */
    mcp: w.mcp,
    /** The loopback OAuth provider. */
    provider: w.oauth,
    notifier,
    orgId,
    /** Sends `/onbehalf <line>` as shell user `user`; a thrown error is what the platform shows (shell prints it, Slack gets a 500 and retries). */
    async send(user: string, line: string, eventId = `drill-${process.pid}-${n++}`): Promise<Sent> {
      const { identity, target } = shellIdentity(user);
      try {
        const ack: Ack = await app.chat.handle({
          kind: 'command',
          identity,
          target: { ...target, messageId: eventId },
          text: line,
          eventId,
        });
        return { ok: true, requestId: eventId, reply: ack?.private?.text ?? '' };
      } catch (err) {
        return { ok: false, requestId: eventId, error: (err as Error).message };
      }
    },
    /** Every `tool_calls` row. */
    rows: (): Promise<CallRowView[]> =>
      app.store.execute<CallRowView>(sql`select id, status, request_id, outcome from tool_calls`),
    /** The outcome notices posted for the call made by request `requestId`. */
    noticesFor: (requestId: string) => notifier.notices.filter((x) => x.call.requestId === requestId),
    stop: () => w.stop(),
  };
}
export type FaultBed = Awaited<ReturnType<typeof faultBed>>;
