import type { HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { InstallProvider } from '@slack/oauth';
import { Hono } from 'hono';
import type { Secret } from '../../crypto/index.js';
import type { Logger } from '../../log.js';
import type { RouteEnv as WebEnv } from '../../chat/platform.js';
import { slackLogger } from './logger.js';
import type { InstalledWorkspaces } from './workspaces.js';

/** The bot scopes the app asks for (the same list as slack/manifest.yaml). */
export const SLACK_BOT_SCOPES = [
  'app_mentions:read',
  'assistant:write',
  // Reading a thread the bot is mentioned in (conversations.replies), for context.
  'channels:history',
  'chat:write',
  'commands',
  'groups:history',
  'im:history',
  'im:read',
  'im:write',
  'team:read',
  'users:read',
  'users:read.email',
];

/** Options of the install flow. */
export interface InstallRoutesOptions {
  clientId: string;
  clientSecret: Secret;
  /** Signs the OAuth `state` (SLACK_STATE_SECRET). */
  stateSecret: Secret;
  installs: InstalledWorkspaces;
  redirectUri: string;
  scopes: string[];
  log: Logger;
  /** Web API base for `oauth.v2.access`. Default Slack's. */
  apiUrl?: string;
  /** Where `/slack/install` sends the browser. Default `https://slack.com/oauth/v2/authorize`. */
  authorizationUrl?: string;
}

/**
 * Multi-workspace mode: Bolt's InstallProvider on `GET /install` (redirects to Slack's consent
 * with a signed, cookie-bound state) and `GET /oauth_redirect` (checks the state, exchanges the
 * code, stores the installation sealed through `InstalledWorkspaces`; each workspace is one org).
 */
export function installRoutes(router: Hono<WebEnv> | undefined, o: InstallRoutesOptions): Hono<WebEnv> {
  const r = router ?? new Hono<WebEnv>();
  const installer = new InstallProvider({
    clientId: o.clientId,
    clientSecret: o.clientSecret.reveal(),
    stateSecret: o.stateSecret.reveal(),
    installationStore: o.installs,
    directInstall: true,
    logger: slackLogger(o.log),
    authorizationUrl: o.authorizationUrl,
    installUrlOptions: { scopes: o.scopes, redirectUri: o.redirectUri },
    clientOptions: o.apiUrl ? { slackApiUrl: o.apiUrl.replace(/\/?$/, '/') } : undefined,
  });
  // The provider speaks node:http; hand it the raw request/response and tell Hono it is answered.
  r.get('/install', async (c) => {
    const { incoming, outgoing } = c.env as unknown as HttpBindings;
    await installer.handleInstallPath(incoming, outgoing);
    return RESPONSE_ALREADY_SENT;
  });
  r.get('/oauth_redirect', async (c) => {
    const { incoming, outgoing } = c.env as unknown as HttpBindings;
    await installer.handleCallback(incoming, outgoing, {
      success: (installation, _opts, _req, res) => {
        o.log.info({ team: installation.team?.id }, 'Slack app installed in a workspace');
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
        res.end(
          '<!doctype html><title>onbehalf</title><p>onbehalf is installed. Mention it in a channel or send it a direct message.</p>',
        );
      },
      failure: (err, _opts, _req, res) => {
        o.log.warn({ err: err.message, code: (err as { code?: string }).code }, 'Slack install failed');
        res.writeHead(400, { 'Content-Type': 'text/html; charset=utf-8' });
        res.end(
          '<!doctype html><title>onbehalf</title><p>The installation did not complete. Start again from the install link.</p>',
        );
      },
    });
    return RESPONSE_ALREADY_SENT;
  });
  return r;
}
