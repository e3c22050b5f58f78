import type { AuditLog } from '../../audit/index.js';
import type { ChatInbound, OutboundRouter } from '../../chat/index.js';
import type { Config } from '../../config.js';
import { Secret, type Keyring } from '../../crypto/index.js';
import type { Db } from '../../db/index.js';
import type { Identity } from '../../identity/index.js';
import type { Logger } from '../../log.js';
import {
  createSlackOutbound,
  createSlackPlatform,
  type SlackPlatform,
  type SlackSender,
  type SlackSettings,
} from './platform.js';

/** Whether Config turns Slack on (a bot token or the install flow). */
export const slackConfigured = (c: Config['slack']): boolean => Boolean(c.botToken || (c.clientId && c.clientSecret));

/** Config → the adapter's settings; secrets wrapped at once. The state secret defaults to one derived from the keyring. */
export function slackSettings(c: Config['slack'], keyring: Keyring): SlackSettings {
  const derived = () => Buffer.from(keyring.derive('slack-install-state')!.key).toString('base64url');
  return {
    signingSecret: c.signingSecret,
    botToken: c.botToken ? new Secret(c.botToken) : undefined,
    appToken: c.appToken ? new Secret(c.appToken) : undefined,
    apiUrl: c.apiUrl,
    // With a bot token the app serves one workspace: the client id then only signs people in (no install flow).
    install:
      c.clientId && c.clientSecret && !c.botToken
        ? {
            clientId: c.clientId,
            clientSecret: new Secret(c.clientSecret),
            stateSecret: new Secret(c.stateSecret ?? derived()),
          }
        : undefined,
    adminsFromWorkspace: c.adminsFromWorkspace,
  };
}

type Deps = { db: Db; keyring: Keyring; identity: Identity; log: Logger };

/** The Slack sender of any process (serve or worker), registered as `slack` with the router; undefined when Slack is off. */
export function slackOutbound(config: Config, deps: Deps, router: OutboundRouter): SlackSender | undefined {
  if (!slackConfigured(config.slack)) return undefined;
  const sender = createSlackOutbound({
    ...deps,
    settings: slackSettings(config.slack, deps.keyring),
    log: deps.log.child({ platform: 'slack' }),
  });
  router.register('slack', sender.outbound);
  return sender;
}

/** The Slack receiver of a `serve` process, wired to the chat core: mount `router` at `/slack`, then `start()`. */
export function slackPlatform(
  config: Config,
  deps: Deps & { core: ChatInbound; audit: AuditLog; sender: SlackSender },
): SlackPlatform {
  return createSlackPlatform({
    settings: slackSettings(config.slack, deps.keyring),
    inbound: deps.core,
    log: deps.log.child({ platform: 'slack' }),
    db: deps.db,
    keyring: deps.keyring,
    identity: deps.identity,
    audit: deps.audit,
    publicUrl: config.publicUrl,
    sender: deps.sender,
  });
}
