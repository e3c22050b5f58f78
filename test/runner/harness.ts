import { vi } from 'vitest';
import type { Redis } from 'ioredis';
import type { ReplyTarget } from '../../src/identity/reply.js';
import { outcomeText } from '../../src/chat/index.js';
import {
  type ApprovalRequest,
  type CallInfo,
  type ConnectRequest,
  type RunnerNotifier,
  type RunnerTuning,
  type ToolOutcome,
} from '../../src/runner/index.js';
import { world } from '../support/world.js';

/** What the runner told the chat side, in order. */
export type Notice =
  | { kind: 'outcome'; call: CallInfo; outcome: ToolOutcome; text: string }
  | { kind: 'connect'; call: CallInfo; req: ConnectRequest }
  | { kind: 'approval'; call: CallInfo; req: ApprovalRequest };

/** The chat seam, recorded: the chat layer is someone else's; this is where the runner hands over. */
export class RecordingNotifier implements RunnerNotifier {
  readonly notices: Notice[] = [];
  async outcome(call: CallInfo, outcome: ToolOutcome) {
    this.notices.push({ kind: 'outcome', call, outcome, text: outcomeText(call, outcome) });
  }
  async needsConnect(call: CallInfo, req: ConnectRequest) {
    this.notices.push({ kind: 'connect', call, req });
  }
  async approvalRequest(call: CallInfo, req: ApprovalRequest) {
    this.notices.push({ kind: 'approval', call, req });
  }
  for(callId: string): Notice[] {
    return this.notices.filter((n) => n.call.callId === callId);
  }
  /** Resolves with the first notice for `callId`, or throws after `ms`. */
  async next(callId: string, ms = 15_000): Promise<Notice> {
    return vi.waitFor(
      () => {
        const n = this.for(callId)[0];
        if (!n) throw new Error(`no notice for call ${callId} within ${ms} ms`);
        return n;
      },
      { timeout: ms, interval: 20 },
    );
  }
}

/**
 * The world in `worker` mode (`createApp`: its runner, policy, pool, audit over a temp SQLite file and
 * the given Redis), with the runner's chat seam recorded and callers in Slack workspace T1 of Acme.
 */
export async function startHarness(
  redisUrl: string,
  o: { tuning?: RunnerTuning; workers?: boolean; dbFile?: string; keys?: string[] } = {},
) {
  const notifier = new RecordingNotifier();
  const w = await world({
    platform: 'slack',
    mode: 'worker',
    redis: false,
    shell: false,
    env: {
      REDIS_URL: redisUrl,
      ONBEHALF_ALLOW_STDIO: 'true',
      ...(o.dbFile ? { DATABASE_URL: `file:${o.dbFile}` } : {}),
      ...(o.keys ? { ONBEHALF_KEYS: o.keys.join(',') } : {}),
    },
    app: {
      shutdownGraceMs: 2000,
      runner: { notifier, tuning: { backoffMs: 50, ...o.tuning }, startWorkers: o.workers ?? true },
    },
  });
  const { app } = w;
  const runner = app.runner;
  const { keyring, identity, policy, pool, audit } = app;
  const org = w.org;
  /** The user row of Slack user `name` of T1 (created on first use, as on first contact). */
  const user = async (name: string) => (await identity.resolve((await w.user(name)).identity)).user;
  const target = (platformUser: string, channelId = 'C1'): ReplyTarget => w.targetOf(platformUser, channelId);
  /** Enqueues a call as `name` (a Slack user of workspace T1) and returns its id. */
  const call = async (
    name: string,
    server: string,
    tool: string,
    args: Record<string, unknown> = {},
    channel = 'C1',
  ) => {
    const u = await w.user(name);
    return (
      await runner.enqueueToolCall({
        orgId: org.id,
        userId: u.id,
        chatIdentity: u.chatIdentity,
        server,
        tool,
        args,
        target: target(name, channel),
        requestId: `req-${Math.random().toString(36).slice(2)}`,
      })
    ).callId;
  };
  return {
    app,
    keyring,
    identity,
    policy,
    pool,
    notifier,
    audit,
    runner,
    logs: w.logs,
    org,
    user,
    target,
    call,
    stop: () => w.stop(),
  };
}
export type Harness = Awaited<ReturnType<typeof startHarness>>;

/** Every key in Redis with its value dumped by type, for canary scans. */
export async function dumpRedis(redis: Redis): Promise<string> {
  let cursor = '0';
  const parts: string[] = [];
  do {
    const [next, keys] = await redis.scan(cursor, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const type = await redis.type(key);
      parts.push(key);
      if (type === 'string') parts.push((await redis.get(key)) ?? '');
      else if (type === 'hash') parts.push(JSON.stringify(await redis.hgetall(key)));
      else if (type === 'list') parts.push(JSON.stringify(await redis.lrange(key, 0, -1)));
      else if (type === 'set') parts.push(JSON.stringify(await redis.smembers(key)));
      else if (type === 'zset') parts.push(JSON.stringify(await redis.zrange(key, '0', '-1')));
      else if (type === 'stream') parts.push(JSON.stringify(await redis.xrange(key, '-', '+')));
    }
  } while (cursor !== '0');
  return parts.join('\n');
}
