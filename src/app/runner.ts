import type { Config } from '../config.js';
import type { OutboundRouter } from '../chat/index.js';
import { Agent, ThreadMemory, type AgentToolOutcome } from '../agent/index.js';
import type { AuditLog } from '../audit/index.js';
import type { Db } from '../db/index.js';
import type { Identity } from '../identity/index.js';
import type { Logger } from '../log.js';
import type { McpPool } from '../mcp/index.js';
import type { Metrics } from '../metrics.js';
import type { OAuthService } from '../oauth/index.js';
import type { Policy } from '../policy/index.js';
import { OutboundNotifier, Runner, outcomeText, type ToolCatalog } from '../runner/index.js';
import type { RunnerOptions } from './types.js';
import { quietConnectionErrors, type AppRedis } from './redis.js';

/** What the runner and the agent are built from. */
export interface RunnerParts {
  config: Config;
  opts: { runner?: RunnerOptions };
  db: Db;
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
}

/** Tool and turn queues; turns go to `opts.runner.turnProcessor`, else to the agent. */
export function buildRunner(p: RunnerParts): Runner {
  const { config, opts } = p;
  const runner = new Runner(
    {
      db: p.db,
      policy: p.policy,
      pool: p.pool,
      tokens: p.oauth,
      audit: p.audit,
      metrics: p.metrics,
      log: quietConnectionErrors(p.log.child({ part: 'runner' }), p.redis.reach),
      connection: p.redis.redis,
      redisUrl: p.redis.url,
      notifier: opts.runner?.notifier ?? new OutboundNotifier(p.outbound, p.log.child({ part: 'runner' })),
      turnProcessor: opts.runner?.turnProcessor ?? (async (turn) => agent.run(turn)),
    },
    {
      parkedTtlMs: config.parkedMinutes * 60_000,
      approvalTtlMs: config.approvalMinutes * 60_000,
      maxQueuedPerUser: config.maxQueuedPerUser,
      maxParkedPerUser: config.maxParkedPerUser,
      ...opts.runner?.tuning,
    },
  );
  // Turns start only once workers do (in `start()`), long after this line.
  const agent = buildAgent(p, runner);
  return runner;
}

/** The LLM tool loop (direct mode without LLM settings); its tools run through the runner. */
function buildAgent(p: RunnerParts, runner: Runner): Agent {
  return new Agent({
    memory: new ThreadMemory(p.db),
    outbound: p.outbound,
    log: p.log.child({ part: 'agent' }),
    llm: p.config.llm,
    user: (orgId, userId) => p.identity.user(orgId, userId),
    catalog: (orgId, user, channelId) => p.catalog.catalogFor(orgId, user, channelId, { forModel: true }),
    runTool: async (turn, server, tool, args): Promise<AgentToolOutcome> => {
      const r = await runner.runToolCall({ ...turn, server, tool, args, turnId: turn.requestId });
      if (r.kind === 'parked') return { kind: 'parked', providerSlug: r.providerSlug, callId: r.callId };
      if (r.kind === 'held') return { kind: 'held', callId: r.callId };
      return {
        kind: 'done',
        ok: r.outcome.kind === 'result' && !r.outcome.isError,
        text: outcomeText({ server, tool }, r.outcome),
      };
    },
  });
}
