import type { Config } from '../config.js';
import {
  OutboundNotifier,
  ThreadContext,
  ThreadTitles,
  outcomeText,
  turnProgress,
  type OutboundRouter,
} from '../chat/index.js';
import { Agent, ThreadMemory, TurnQueue, accountsFor, type ToolCatalog, type TurnJob } from '../agent/index.js';
import type { AuditLog } from '../audit/index.js';
import type { Store } from '../db/index.js';
import type { Identity } from '../identity/index.js';
import type { Logger } from '../log.js';
import type { McpPool } from '../mcp/index.js';
import type { Metrics } from '../metrics.js';
import type { OAuthService } from '../oauth/index.js';
import type { Policy } from '../policy/index.js';
import { Elicitations, Runner, type RunnerTuning } from '../runner/index.js';
import type { Keyring } from '../crypto/index.js';
import type { RunnerOptions } from './types.js';
import { quietConnectionErrors, type AppRedis } from './redis.js';

/** What the runner and the agent are built from. */
export interface RunnerParts {
  config: Config;
  opts: { runner?: RunnerOptions };
  store: Store;
  log: Logger;
  metrics: Metrics;
  audit: AuditLog;
  identity: Identity;
  policy: Policy;
  pool: McpPool;
  catalog: ToolCatalog;
  oauth: OAuthService;
  outbound: OutboundRouter;
  redis: AppRedis;
  keyring: Keyring;
}

/** The tool queue and the agent's turn queue; turns go to `opts.runner.turnProcessor`, else to the agent. */
export function buildRunner(p: RunnerParts): {
  runner: Runner;
  turns: TurnQueue;
  elicitations: Elicitations;
  titles: ThreadTitles;
  startTurns: () => Promise<void>;
} {
  const { config, opts } = p;
  const tuning: RunnerTuning = {
    parkedTtlMs: config.parkedMinutes * 60_000,
    approvalTtlMs: config.approvalMinutes * 60_000,
    maxQueuedPerUser: config.maxQueuedPerUser,
    maxParkedPerUser: config.maxParkedPerUser,
    lockDurationMs: config.jobLockMs,
    stalledIntervalMs: config.stalledCheckMs,
    ...opts.runner?.tuning,
  };
  const log = quietConnectionErrors(p.log.child({ part: 'runner' }), p.redis.reach);
  const queue = { connection: p.redis.redis, redisUrl: p.redis.url, log };
  const turns = new TurnQueue({ ...queue, describe: outcomeText }, tuning);
  const notifier = opts.runner?.notifier ?? new OutboundNotifier(p.outbound, p.log.child({ part: 'runner' }));
  // A server's questions during a call go to its caller; answers come back through Redis to whichever worker waits.
  const elicitations = new Elicitations({ redis: p.redis.redis, keyring: p.keyring, notifier, audit: p.audit, log });
  const runner = new Runner(
    {
      ...queue,
      store: p.store,
      policy: p.policy,
      pool: p.pool,
      tokens: p.oauth,
      audit: p.audit,
      metrics: p.metrics,
      notifier,
      resumeTurn: (e) => turns.resume(e),
      elicit: elicitations,
    },
    tuning,
  );
  const memory = new ThreadMemory(p.store);
  const agent = buildAgent(p, runner, memory);
  // With a model, a turn in a thread first reads what others wrote there (quoted to the model as theirs).
  const context = p.config.llm
    ? new ThreadContext({ outbound: p.outbound, memory, identity: p.identity, log: p.log.child({ part: 'agent' }) })
    : undefined;
  // The first message of an assistant thread titles it, beside the turn (never holding it up).
  const titles = threadTitles(p);
  const processor =
    opts.runner?.turnProcessor ??
    (async (turn: TurnJob) => {
      const titled = titles.title(turn);
      await context?.read(turn);
      await agent.run(turn);
      await titled;
    });
  return { runner, turns, elicitations, titles, startTurns: () => turns.start(processor) };
}

/** Assistant threads' titles, claimed in Redis (the title itself is the value) once per thread across processes. */
function threadTitles(p: RunnerParts): ThreadTitles {
  return new ThreadTitles({
    outbound: p.outbound,
    claims: {
      claim: async (key, title, ttl) => (await p.redis.redis.set(key, title, 'EX', ttl, 'NX')) === 'OK',
      claimed: (key) => p.redis.redis.get(key),
    },
    log: p.log.child({ part: 'agent' }),
  });
}

/** The LLM tool loop (direct mode without LLM settings); its tools run through the runner, chat words what it says. */
function buildAgent(p: RunnerParts, runner: Runner, memory: ThreadMemory): Agent {
  return new Agent({
    memory,
    progress: turnProgress(p.outbound, p.log.child({ part: 'progress' })),
    accounts: (orgId, userId, server) =>
      accountsFor(p.policy, (o, u) => p.oauth.listConnections(o, u), orgId, userId, server),
    log: p.log.child({ part: 'agent' }),
    llm: p.config.llm,
    user: (orgId, userId) => p.identity.user(orgId, userId),
    catalog: (orgId, user, channelId) => p.catalog.catalogFor(orgId, user, channelId, { forModel: true }),
    runTool: (turn, server, tool, args) => runner.runToolCall({ ...turn, server, tool, args, turnId: turn.requestId }),
    describe: outcomeText,
  });
}
