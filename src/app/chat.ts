import {
  ChatCore,
  ConnectionAnnouncer,
  chatPolicy,
  connectionHooks,
  type ChatInbound,
  type OutboundRouter,
  type ThreadTitles,
  type WaitingFor,
} from '../chat/index.js';
import type { Config } from '../config.js';
import type { AuditLog } from '../audit/index.js';
import type { Store } from '../db/index.js';
import type { ToolCatalog, TurnQueue } from '../agent/index.js';
import { LinkCodes, OrgJoins, type Identity } from '../identity/index.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { ConnectionHookSet, ConnectionResult, OAuthService } from '../oauth/index.js';
import type { Policy } from '../policy/index.js';
import type { Elicitations, Runner } from '../runner/index.js';

/** What the chat core is built from. */
export interface ChatParts {
  config: Config;
  store: Store;
  log: Logger;
  connections: ConnectionHookSet;
  audit: AuditLog;
  identity: Identity;
  policy: Policy;
  catalog: ToolCatalog;
  oauth: OAuthService;
  runner: Runner;
  turns: TurnQueue;
  outbound: OutboundRouter;
  metrics: Metrics;
  elicitations: Elicitations;
  titles: ThreadTitles;
}

/** The chat core every platform hands its events to; connection news is announced where the calls wait. */
export function buildChat(p: ChatParts): ChatInbound {
  const log = p.log.child({ part: 'chat' });
  const { runner, turns } = p;
  const waiting: WaitingFor = (e) => runner.waitingFor(e);
  p.connections.add(
    connectionHooks({
      announcer: new ConnectionAnnouncer(p.store, p.identity, p.outbound, waiting, log, (o, u) =>
        runner.lastSeen(o, u),
      ),
      runner,
    }),
  );
  return new ChatCore(
    {
      identity: p.identity,
      linkCodes: new LinkCodes(p.store),
      orgJoins: new OrgJoins(p.store),
      audit: p.audit,
      outbound: p.outbound,
      oauth: p.oauth,
      policy: chatPolicy(p.policy, p.catalog),
      runner: {
        enqueueToolCall: (r) => runner.enqueueToolCall(r),
        answerApproval: (r) => runner.answerApproval(r),
        enqueueTurn: (r) => turns.enqueue(r),
      },
      llm: Boolean(p.config.llm),
      dataDir: p.config.dataDir,
      elicitations: p.elicitations,
      titles: p.titles,
      countFeedback: (rating) => p.metrics.answerFeedback.inc({ rating }),
    },
    log,
  );
}

/** What a Disconnect on the web page tells in chat: a direct message on each platform the user is linked on. */
export function browserNotices(
  p: Pick<ChatParts, 'store' | 'identity' | 'outbound' | 'log'>,
): (orgId: string, userId: string, r: ConnectionResult) => Promise<void> {
  const announcer = new ConnectionAnnouncer(
    p.store,
    p.identity,
    p.outbound,
    async () => [],
    p.log.child({ part: 'chat' }),
  );
  return (orgId, userId, r) => announcer.disconnectedInBrowser(orgId, userId, r);
}
