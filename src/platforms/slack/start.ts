import { senderOnly, type PlatformFactory } from '../../chat/platform.js';
import type { Config } from '../../config.js';
import { Secret, type Keyring } from '../../crypto/index.js';
import { createSlackOutbound, createSlackPlatform, type SlackSettings } from './platform.js';

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

/**
 * Slack from Config: in a `serve` process the receiver (`/slack` routes or Socket Mode) and the
 * sender; in a worker the Web API sender alone. Undefined when Slack is off.
 */
export const slackPlatform: PlatformFactory = (ctx) => {
  if (!slackConfigured(ctx.config.slack)) return undefined;
  const o = {
    settings: slackSettings(ctx.config.slack, ctx.keyring),
    log: ctx.log.child({ platform: 'slack' }),
    store: ctx.store,
    keyring: ctx.keyring,
    identity: ctx.identity,
  };
  const sender = createSlackOutbound(o);
  if (!ctx.receive) return senderOnly('slack', sender.outbound);
  return createSlackPlatform({ ...o, audit: ctx.audit, publicUrl: ctx.config.publicUrl, sender, redis: ctx.redis });
};
