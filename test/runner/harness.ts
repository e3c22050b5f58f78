import path from 'node:path';
import type { Redis } from 'ioredis';
import pino from 'pino';
import { AuditLog } from '../../src/audit/index.js';
import { outcomeText } from '../../src/chat/index.js';
import type { ReplyTarget } from '../../src/identity/reply.js';
import { Keyring } from '../../src/crypto/index.js';
import { openDb, type Db } from '../../src/db/index.js';
import { Identity } from '../../src/identity/index.js';
import { McpPool } from '../../src/mcp/index.js';
import { NetGuard } from '../../src/net/index.js';
import type { TokenSource } from '../../src/oauth/types.js';
import { Policy } from '../../src/policy/index.js';
import { ingressConnection } from '../../src/redis/index.js';
import {
  Runner,
  type ApprovalRequest,
  type CallInfo,
  type ConnectRequest,
  type RunnerNotifier,
  type RunnerTuning,
  type ToolOutcome,
} from '../../src/runner/index.js';
import { LogCapture } from '../support/logs.js';
import { tempDir, testKey } from '../support/env.js';

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
  /** Resolves with the first notice for `callId` (polling), or throws after `ms`. */
  async next(callId: string, ms = 15_000): Promise<Notice> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      const n = this.for(callId)[0];
      if (n) return n;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no notice for call ${callId} within ${ms} ms`);
  }
}

/** Tokens for tests without an OAuth engine: every provider is unknown (never a token). */
export const noOAuth: TokenSource = {
  accessTokenFor: async (_o, _u, slug) => ({ kind: 'unknown_provider', providerSlug: slug }),
  connectLink: async () => 'http://127.0.0.1/never',
};

/** A runner over a temp SQLite file and a real Redis, with a recording notifier and captured logs. */
export async function startHarness(
  redisUrl: string,
  o: { tuning?: RunnerTuning; tokens?: TokenSource; workers?: boolean; dbFile?: string; keys?: string[] } = {},
) {
  const tmp = tempDir('onbehalf-runner-');
  const logs = new LogCapture();
  const log = pino({ level: 'debug' }, logs);
  const db: Db = openDb(o.dbFile ?? path.join(tmp.dir, 'onbehalf.db'));
  const keyring = new Keyring(o.keys ?? [testKey()]);
  const identity = new Identity(db);
  // Its MCP peers are on loopback.
  const net = new NetGuard({ allowPrivate: true });
  const policy = new Policy(db, keyring, { allowStdio: true, net });
  const pool = new McpPool(log, { net });
  const notifier = new RecordingNotifier();
  const audit = new AuditLog(db);
  const connection: Redis = ingressConnection(redisUrl);
  const tokens = o.tokens ?? noOAuth;
  const runner = new Runner(
    { db, policy, pool, tokens, notifier, audit, log, connection, redisUrl },
    { backoffMs: 50, ...o.tuning },
  );
  if (o.workers ?? true) await runner.startWorkers();
  const org = identity.orgFor('slack', 'T1', 'Acme');
  const user = (name: string) =>
    identity.resolve({ platform: 'slack', workspaceId: 'T1', userId: name, displayName: name }).user;
  const target = (platformUser: string, channelId = 'C1'): ReplyTarget => ({
    platform: 'slack',
    workspaceId: 'T1',
    channelId,
    userId: platformUser,
    isDirect: false,
    messageId: `m-${Math.random().toString(36).slice(2)}`,
  });
  /** Enqueues a call as `name` (a Slack user of workspace T1) and returns its id. */
  const call = async (
    name: string,
    server: string,
    tool: string,
    args: Record<string, unknown> = {},
    channel = 'C1',
  ) => {
    const u = user(name);
    return (
      await runner.enqueueToolCall({
        orgId: org.id,
        userId: u.id,
        chatIdentity: `slack:T1:${name}`,
        server,
        tool,
        args,
        target: target(name, channel),
        requestId: `req-${Math.random().toString(36).slice(2)}`,
      })
    ).callId;
  };
  return {
    db,
    keyring,
    identity,
    policy,
    pool,
    notifier,
    audit,
    runner,
    logs,
    org,
    user,
    target,
    call,
    tmp,
    async stop() {
      await runner.stop(2000);
      await pool.close();
      await connection.quit().catch(() => connection.disconnect());
      db.$client.close();
      tmp.cleanup();
    },
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
