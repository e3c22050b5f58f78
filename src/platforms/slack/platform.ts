import { App as BoltApp, type Receiver } from '@slack/bolt';
import type { Hono } from 'hono';
import type { Redis } from 'ioredis';
import type { AuditLog } from '../../audit/index.js';
import { CoreSlot, type ChatPlatform, type RouteEnv } from '../../chat/platform.js';
import type { ChatInbound } from '../../chat/types.js';
import type { Keyring, Secret } from '../../crypto/index.js';
import type { Store } from '../../db/index.js';
import { CodedError } from '../../errors.js';
import type { Identity } from '../../identity/index.js';
import type { Logger } from '../../log.js';
import { WorkspaceAdmins } from './admins.js';
import { RecentEvents } from './dedupe.js';
import { SlackProfiles } from './profiles.js';
import { installRoutes, SLACK_BOT_SCOPES } from './install.js';
import { registerListeners } from './listeners.js';
import { slackLogger } from './logger.js';
import { SlackOutbound } from './outbound.js';
import { HonoReceiver } from './receiver.js';
import { SlackSocketReceiver } from './socket.js';
import { InstalledWorkspaces, SingleWorkspaceToken, type SlackTokens } from './workspaces.js';

/** Slack settings, from Config. */
export interface SlackSettings {
  signingSecret?: string;
  botToken?: Secret;
  appToken?: Secret;
  /** Web API base (`SLACK_API_URL`). Default Slack's. */
  apiUrl?: string;
  /** Multi-workspace install (`SLACK_CLIENT_ID`/`SLACK_CLIENT_SECRET`). */
  install?: { clientId: string; clientSecret: Secret; stateSecret: Secret };
  adminsFromWorkspace?: boolean;
}

/** What the Slack platform is built from. */
export interface SlackPlatformOptions {
  settings: SlackSettings;
  log: Logger;
  store: Store;
  keyring: Keyring;
  identity: Identity;
  audit: AuditLog;
  /** Base URL users reach (for the install redirect). */
  publicUrl: string;
  /** Longest wait before answering Slack's HTTP request. Default 2500 ms. */
  ackDeadlineMs?: number;
  /** How long a command/button/form waits for the chat core to put its answer in the ack. Default 2000 ms. */
  answerDeadlineMs?: number;
  /** The sender already registered with the outbound router. Default: a new one from `settings`. */
  sender?: SlackSender;
  /** Shared by every replica: a redelivered event runs once across them. Default none (deduplicated in this process). */
  redis?: Redis;
}

/** The Web API sender and where it gets bot tokens. */
export interface SlackSender {
  outbound: SlackOutbound;
  tokens: SlackTokens;
  /** Set in multi-workspace mode. */
  installs?: InstalledWorkspaces;
}

/** The Slack platform: a Bolt app behind our receiver (HTTP or Socket Mode), and the Web API sender. */
export interface SlackPlatform extends ChatPlatform {
  readonly name: 'slack';
  bolt: BoltApp;
  outbound: SlackOutbound;
  /** Mount at `/slack` (HTTP mode: `/events`; multi-workspace: `/install`, `/oauth_redirect`); also in `routes`. */
  router: Hono<RouteEnv> | undefined;
}

/** Thrown when Slack is configured in a way that cannot work; the message names the variable. */
export class SlackConfigError extends CodedError {
  readonly code = 'slack_config_invalid';
}

/** The sender alone (for worker processes): Web API only, no receiver. */
export function createSlackOutbound(
  o: Pick<SlackPlatformOptions, 'settings' | 'log' | 'store' | 'keyring' | 'identity'>,
): SlackSender {
  const installs = o.settings.install ? new InstalledWorkspaces(o.store, o.keyring, o.identity) : undefined;
  const tokens: SlackTokens | undefined = o.settings.botToken
    ? new SingleWorkspaceToken(o.settings.botToken)
    : installs;
  if (!tokens)
    throw new SlackConfigError(
      'Slack needs SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (install flow)',
    );
  return { outbound: new SlackOutbound({ tokens, log: o.log, apiUrl: o.settings.apiUrl }), tokens, installs };
}

/** Socket Mode when an app token is set, else our HTTP receiver (which needs the signing secret). */
function receiverFor(o: SlackPlatformOptions): { receiver: Receiver; http?: HonoReceiver } {
  const { settings, log } = o;
  if (settings.appToken)
    return { receiver: new SlackSocketReceiver({ appToken: settings.appToken, apiUrl: settings.apiUrl, log }) };
  if (!settings.signingSecret)
    throw new SlackConfigError(
      'SLACK_SIGNING_SECRET is required for Slack over HTTP (or set SLACK_APP_TOKEN for Socket Mode)',
    );
  const http = new HonoReceiver({ signingSecret: settings.signingSecret, ackDeadlineMs: o.ackDeadlineMs });
  return { receiver: http, http };
}

/** Bolt on `receiver`, authorizing each workspace with its bot token. */
function boltApp(receiver: Receiver, tokens: SlackTokens, o: SlackPlatformOptions): BoltApp {
  const { settings, log } = o;
  const bolt = new BoltApp({
    receiver,
    logger: slackLogger(log),
    ignoreSelf: false, // our listeners drop bot messages themselves (no auth.test per workspace needed)
    authorize: async ({ teamId }) => {
      const token = teamId ? await tokens.botToken(teamId) : undefined;
      if (!token) throw new Error('this workspace has not installed the app');
      return { botToken: token.reveal(), teamId };
    },
    clientOptions: {
      slackApiUrl: (settings.apiUrl ?? 'https://slack.com/api/').replace(/\/?$/, '/'),
      logger: slackLogger(log),
    },
  });
  bolt.error(async (err) => {
    // Unknown workspace: Bolt already acked; nothing to retry. Anything else reaches the receiver (500).
    if (err.code === 'slack_bolt_authorization_error')
      return log.warn('Slack request from a workspace without an installation: ignored');
    throw err;
  });
  return bolt;
}

/**
 * Builds the Slack platform: Bolt with our HTTP receiver (or Socket Mode when an app token is set),
 * listeners that translate to the chat core given at `start(core)`, the Web API sender, and the
 * install flow when configured.
 */
export function createSlackPlatform(o: SlackPlatformOptions): SlackPlatform {
  const { settings, log } = o;
  const { outbound, tokens, installs } = o.sender ?? createSlackOutbound(o);
  const { receiver, http } = receiverFor(o);
  const bolt = boltApp(receiver, tokens, o);
  const core = new CoreSlot('slack');
  const admins = settings.adminsFromWorkspace
    ? new WorkspaceAdmins(o.identity, o.audit, (team, user) => outbound.call(team, 'users.info', { user }), log)
    : undefined;
  registerListeners(bolt, {
    inbound: core,
    outbound,
    log,
    admins,
    profiles: new SlackProfiles((team, method, args) => outbound.call(team, method, args), o.identity, log),
    answerDeadlineMs: o.answerDeadlineMs,
    recent: new RecentEvents({ redis: o.redis }),
    onUninstall: installs ? (teamId) => installs.remove(teamId) : undefined,
  });

  let router = http?.router();
  if (installs && settings.install) {
    router = installRoutes(router, {
      ...settings.install,
      installs,
      apiUrl: settings.apiUrl,
      log,
      redirectUri: `${o.publicUrl}/slack/oauth_redirect`,
      scopes: SLACK_BOT_SCOPES,
    });
  }
  let started = false;
  return {
    name: 'slack',
    bolt,
    outbound,
    router,
    routes: router ? [{ path: '/slack', router }] : [],
    start: async (inbound: ChatInbound) => {
      core.bind(inbound);
      started = true;
      await bolt.start();
    },
    stop: async () => {
      if (started) await bolt.stop();
    },
  };
}
