import { ChatCore, ConnectionAnnouncer, type ChatInbound, type OutboundRouter } from '../chat/index.js';
import type { Config } from '../config.js';
import type { AuditLog } from '../audit/index.js';
import type { Db } from '../db/index.js';
import type { AppEvents } from '../events.js';
import { LinkCodes, OrgJoins, type Identity } from '../identity/index.js';
import type { Logger } from '../log.js';
import type { OAuthService } from '../oauth/index.js';
import type { Policy } from '../policy/index.js';
import { chatPolicy, type Runner, type ToolCatalog } from '../runner/index.js';

/** What the chat core is built from. */
export interface ChatParts {
  config: Config;
  db: Db;
  log: Logger;
  events: AppEvents;
  audit: AuditLog;
  identity: Identity;
  policy: Policy;
  catalog: ToolCatalog;
  oauth: OAuthService;
  runner: Runner;
  outbound: OutboundRouter;
}

/** The chat core every platform hands its events to; connection news is announced where the calls wait. */
export function buildChat(p: ChatParts): ChatInbound {
  const log = p.log.child({ part: 'chat' });
  const announcer = new ConnectionAnnouncer(p.db, p.identity, p.outbound, log);
  // Ahead of the runner's resume: the confirmation goes where the calls wait, before their results.
  p.events.prependListener('connection.active', (e) => void announcer.connected(e));
  p.events.on('connection.held', (e) => void announcer.held(e));
  p.events.on('connection.refused', (e) => void announcer.refused(e));
  p.events.on('connection.signin_mismatch', (e) => void announcer.signInMismatch(e));
  return new ChatCore(
    {
      identity: p.identity,
      linkCodes: new LinkCodes(p.db),
      orgJoins: new OrgJoins(p.db),
      audit: p.audit,
      outbound: p.outbound,
      oauth: p.oauth,
      policy: chatPolicy(p.policy, p.catalog),
      runner: p.runner,
      llm: Boolean(p.config.llm),
      dataDir: p.config.dataDir,
    },
    log,
  );
}
