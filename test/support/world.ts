import type { AppMode, AppOptions } from '../../src/app.js';
import type { ReplyTarget } from '../../src/chat/types.js';
import { Secret } from '../../src/crypto/index.js';
import type { ChatIdentity } from '../../src/identity/index.js';
import { ShellOutbound } from '../../src/platforms/shell/index.js';
import { startTestApp, type TestApp } from './app.js';
import { startLlmServer, type LlmReply, type LlmRequest } from './llm-server.js';
import { startMcpHttpServer, stdioServerCommand } from './mcp-servers/index.js';
import { authorizeInBrowser, OAuthTestServer, type OAuthServerOptions, type TestBrowser } from './oauth-server.js';
import { startTestRedis } from './redis.js';
import { ShellSession } from './shell.js';

/** An MCP server the org uses, served by the world's loopback MCP peer (http) or the stdio test server. */
export interface WorldServer {
  name: string;
  /** Default `http` (the loopback server that reports the credential it saw). */
  transport?: 'http' | 'stdio';
  /** Bind the caller's grant at the world's provider (http: `Authorization: Bearer {token}`, stdio: env
   * `GITHUB_TOKEN`). Default false. */
  grant?: boolean;
  timeoutMs?: number;
}

/** What a test's world holds; defaults beside each. */
export interface WorldOptions {
  /** Users created up front (by chat identity, so each gets a user in the org). Default none. */
  users?: string[];
  /** The platform users come from. Default `shell`. */
  platform?: 'shell' | 'slack' | 'discord';
  /** The workspace (Slack team, Discord guild) id. Default `local` (shell), `T1` (slack, discord). */
  workspace?: string;
  /** Display names by user name (default: the name). */
  displayNames?: Record<string, string>;
  /** The workspace's (and so the org's) name. Default `local` (shell), `Acme` (slack). */
  workspaceName?: string;
  /** Slug of an OAuth provider registered (by the OAuth service's API) at the loopback OAuth server. Default none. */
  provider?: string;
  /** The provider's registration. Defaults: client id `client-1`, a canary secret, scopes `['repo']`. */
  client?: { id?: string; secret?: string; scopes?: string[] };
  /** Options of the loopback OAuth server (always started). */
  oauth?: OAuthServerOptions;
  /** MCP servers added for the org. Default none. */
  servers?: WorldServer[];
  /** Options of the loopback MCP server (always started). */
  mcp?: Parameters<typeof startMcpHttpServer>[0];
  /** A scripted model: starts the loopback LLM server and points LLM_BASE_URL at it. Default none (direct mode). */
  llm?: (req: LlmRequest) => LlmReply;
  /** Start a test redis-server and pass REDIS_URL. Default true; false: the app starts its private one. */
  redis?: boolean;
  /** Environment overrides (ONBEHALF_ADMINS, SLACK_*, …). */
  env?: Record<string, string>;
  mode?: AppMode;
  /** Composition-root options (runner seams and tunables, net). */
  app?: Omit<AppOptions, 'mode' | 'logDestination'>;
  /** Register the shell platform's sender, printing to each user's session. Default true. */
  shell?: boolean;
  /** Connect every user of `users` through the real OAuth flow at start. Default false. */
  connect?: boolean;
}

/** One person of the world: ids, chat identity and where replies to them go. */
export interface WorldUser {
  name: string;
  id: string;
  orgId: string;
  identity: ChatIdentity;
  /** `<platform>:<workspace>:<name>`, as the runner's job data names the caller. */
  chatIdentity: string;
  /** A reply target in channel `channelId` (slack) or the user's shell. */
  target(channelId?: string): ReplyTarget;
}

/** How a user connects: the vendor login to act as, the provider, whether to confirm a held grant. */
export interface ConnectOptions {
  /** Default `<name>-at-vendor`. */
  login?: string;
  /** Default the world's provider. */
  slug?: string;
  /** Confirm a held grant as the user would in chat. Default true. */
  confirm?: boolean;
  browser?: TestBrowser;
  link?: { resumeCallId?: string; extraScopes?: string[] };
}

/**
 * The real product (`createApp`, via `startTestApp`) with its loopback peers (redis, OAuth server, an
 * MCP server reporting the credential it saw, optionally an LLM) and the users a test names, each
 * connectable through the real OAuth flow (connect link → consent page → provider → callback).
 */
export async function world(o: WorldOptions = {}) {
  const platform = o.platform ?? 'shell';
  const [redis, oauth, mcp, llm] = await Promise.all([
    o.redis === false ? undefined : startTestRedis(),
    OAuthTestServer.start(o.oauth),
    startMcpHttpServer(o.mcp),
    o.llm ? startLlmServer(o.llm) : undefined,
  ]);
  const t: TestApp = await startTestApp(
    {
      ...(redis ? { REDIS_URL: redis.url } : {}),
      ...(llm ? { LLM_BASE_URL: llm.baseUrl, LLM_MODEL: 'scripted' } : {}),
      ...o.env,
    },
    o.mode ?? 'serve',
    o.app,
  );
  const { app } = t;
  const sessions = new Map<string, ShellSession>();
  if (o.shell !== false) app.outbound.register('shell', new ShellOutbound((u) => sessions.get(u)?.stream));
  const workspaceId = o.workspace ?? (platform === 'shell' ? 'local' : 'T1');
  const workspaceName = o.workspaceName ?? (platform === 'shell' ? 'local' : 'Acme');
  const identityOf = (name: string): ChatIdentity => ({
    platform,
    workspaceId: workspaceId,
    userId: name,
    displayName: o.displayNames?.[name] ?? name,
    workspaceName,
  });
  const people = new Map<string, WorldUser>();
  /** A reply target for `name` in channel `channelId` (slack) or their shell; needs no user row. */
  const targetOf = (name: string, channelId = platform === 'shell' ? 'shell' : 'C1'): ReplyTarget => ({
    platform,
    workspaceId: workspaceId,
    channelId,
    userId: name,
    isDirect: platform === 'shell',
    messageId: `m-${Math.random().toString(36).slice(2)}`,
  });
  /** The user `name` (created on first use, as on first contact). */
  const user = async (name: string): Promise<WorldUser> => {
    const known = people.get(name);
    if (known) return known;
    const identity = identityOf(name);
    const r = await app.identity.resolve(identity);
    const u: WorldUser = {
      name,
      id: r.user.id,
      orgId: r.org.id,
      identity,
      chatIdentity: `${platform}:${workspaceId}:${name}`,
      target: (channelId) => targetOf(name, channelId),
    };
    people.set(name, u);
    return u;
  };
  // The workspace's org, created up front (as first contact would), so `org` can be read at once.
  const orgRow = await app.identity.orgFor(platform, workspaceId, workspaceName);
  const orgOf = () => orgRow;
  const oauthService = app.oauth;

  if (o.provider) {
    const added = await oauthService!.addProvider(orgOf().id, {
      slug: o.provider,
      kind: 'oauth2',
      clientId: o.client?.id ?? 'client-1',
      clientSecret: new Secret(o.client?.secret ?? 'client-secret-canary-world'),
      scopes: o.client?.scopes ?? ['repo'],
      issuer: oauth.issuer,
      ...oauth.endpoints,
    });
    if (!added.ok) throw new Error(JSON.stringify(added.error));
  }
  for (const s of o.servers ?? []) {
    const stdio = s.transport === 'stdio';
    const spec = stdio
      ? { transport: 'stdio' as const, ...stdioServerCommand }
      : { transport: 'http' as const, url: mcp.url };
    const org = orgOf();
    const added = await app.policy.addServer(org.id, { name: s.name, ...spec, timeoutMs: s.timeoutMs });
    if (!added.ok) throw new Error(`server ${s.name}: ${JSON.stringify(added)}`);
    if (!s.grant) continue;
    const bound = stdio
      ? await app.policy.bind(org.id, s.name, 'env', 'GITHUB_TOKEN', `oauth:${o.provider}`)
      : await app.policy.bind(org.id, s.name, 'header', 'Authorization', `oauth:${o.provider}`, 'Bearer {token}');
    if (!bound.ok) throw new Error(`bind ${s.name}: ${JSON.stringify(bound)}`);
  }

  /** Follows a connect `link` in a browser signed in at the vendor as `login` (default: as it is); confirms a held grant. */
  const connectVia = async (link: string, opts: Pick<ConnectOptions, 'login' | 'confirm' | 'browser'> = {}) => {
    if (opts.login !== undefined) oauth.login = opts.login;
    const step = await authorizeInBrowser(link, opts.browser);
    if (!('callbackUrl' in step)) throw new Error(`start failed: ${step.status} ${step.body}`);
    const res = await step.browser.fetch(step.callbackUrl);
    const html = await res.text();
    // A vendor account new to the user, from an unproven browser, waits for their confirmation (the chat button).
    const {
      o: orgId,
      u,
      p,
    } = JSON.parse(Buffer.from(new URL(link).searchParams.get('t')!.split('.')[1]!, 'base64url').toString()) as {
      o: string;
      u: string;
      p: string;
    };
    const held = async () =>
      (await oauthService!.listConnections(orgId, u)).some((c) => c.providerSlug === p && c.status === 'held');
    if (opts.confirm !== false && (await held())) {
      const ok = await oauthService!.confirmHeld(orgId, u, p);
      if (!ok.ok) throw new Error(JSON.stringify(ok.error));
    }
    return { res, html, link, ...step };
  };
  /** Connects `name` at the provider through the real flow, from a connect link the OAuth service signs. */
  const connect = async (name: string, opts: ConnectOptions = {}) => {
    const u = await user(name);
    const link = await oauthService!.connectLink(u.orgId, u.id, opts.slug ?? o.provider!, opts.link);
    return connectVia(link, { ...opts, login: opts.login ?? `${name}-at-vendor` });
  };
  for (const name of o.users ?? []) await user(name);
  if (o.connect) for (const name of o.users ?? []) await connect(name);

  return {
    t,
    app,
    logs: t.logs,
    redis,
    oauth,
    mcp,
    llm,
    /** The workspace's org. */
    get org() {
      return orgOf();
    },
    user,
    targetOf,
    connect,
    connectVia,
    /** Each user's shell session, by name (created by `as`). */
    sessions,
    /** The user's current access token at `slug` (default the world's provider). */
    async tokenOf(name: string, slug = o.provider!) {
      const u = await user(name);
      const r = await oauthService!.accessTokenFor(u.orgId, u.id, slug);
      if (r.kind !== 'ok') throw new Error(`no token for ${name}: ${r.kind}`);
      return r.token.reveal();
    },
    /** `name` typing into the real shell platform (one session per user). */
    as(name: string): ShellSession {
      if (!sessions.has(name)) sessions.set(name, new ShellSession(app.chat, name));
      return sessions.get(name)!;
    },
    async stop() {
      for (const s of sessions.values()) await s.close();
      await t.stop();
      await Promise.all([redis?.stop(), oauth.stop(), mcp.stop(), llm?.close()]);
    },
  };
}
export type World = Awaited<ReturnType<typeof world>>;
