import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/** One Web API call as the fake received it. `body` has JSON-looking fields (blocks, view) parsed. */
export interface SlackApiCall {
  method: string;
  /** The Bearer token (or `token` field) the caller used; undefined when none was sent. */
  token: string | undefined;
  body: Record<string, unknown>;
  /** The raw request body, for scanning with `containing`. */
  raw: string;
  at: number;
}

/** A user as `users.info` answers. */
export interface SlackFakeUser {
  id: string;
  /** The handle (deprecated `user_name` of slash commands). */
  name?: string;
  /** `profile.display_name`: what people see in Slack, when set. */
  display_name?: string;
  /** `profile.real_name` and `real_name`. */
  real_name?: string;
  /** `profile.email` (needs `users:read.email`). */
  email?: string;
  is_admin?: boolean;
  is_owner?: boolean;
}

/** What `oauth.v2.access` answers for the install flow. */
export interface SlackFakeInstall {
  code: string;
  teamId: string;
  teamName?: string;
  botToken: string;
  botUserId?: string;
}

export interface SlackApiOptions {
  /** Tokens the fake accepts, with the team each belongs to. Empty (default): any token is accepted as team `T_DEFAULT`. */
  tokens?: Record<string, { teamId: string; botUserId?: string }>;
}

/** A running fake. `url` is the Web API base to put in SLACK_API_URL (ends with `/api/`). */
export interface SlackApi {
  url: string;
  /** The app's environment for this fake: signing secret, bot token and SLACK_API_URL (no trailing slash). */
  appEnv(signingSecret: string, botToken: string): Record<string, string>;
  calls: SlackApiCall[];
  users: Map<string, SlackFakeUser>;
  /** What `team.info` answers as each team's name (default the team id). */
  teamNames: Map<string, string>;
  installs: Map<string, SlackFakeInstall>;
  /** Calls of one method. */
  callsTo(method: string): SlackApiCall[];
  /** The next `times` calls of `method` answer 429 with `Retry-After: seconds`. */
  rateLimit(method: string, seconds: number, times?: number): void;
  /** Resolves with the first call of `method` matching `where` (already made or arriving within `timeoutMs`, default 5000). */
  waitFor(method: string, where?: (c: SlackApiCall) => boolean, timeoutMs?: number): Promise<SlackApiCall>;
  /** Calls whose raw body, token or headers contain any of `values` (leak scans). */
  containing(...values: string[]): SlackApiCall[];
  /**
   * Socket Mode: sends an envelope (`events_api`, `slash_commands`, `interactive`) to every connected
   * client (`apps.connections.open` hands out this fake's WebSocket URL); resolves with the client's ack.
   */
  socketSend(
    type: string,
    payload: Record<string, unknown>,
    o?: { envelopeId?: string; retryAttempt?: number },
  ): Promise<{ envelope_id: string; payload?: unknown } | undefined>;
  /** Resolves once a Socket Mode client is connected (after `hello`). */
  socketConnected(timeoutMs?: number): Promise<void>;
  /** How many Socket Mode clients are connected now (one per replica in Socket Mode). */
  socketClients(): number;
  /** From now on, `method` answers `{ ok: false, error }` (e.g. `chat.startStream` on a workspace without streaming); undefined: answers again. */
  refuse(method: string, error: string | undefined): void;
  /** From now on, posts, ephemerals and edits in `channel` answer `{ ok: false, error }` (e.g. `not_in_channel`). */
  channelError(channel: string, error: 'not_in_channel' | 'channel_not_found' | 'is_archived'): void;
  /** Every route (Web API and response URLs) fails: HTTP 200 `fatal_error` for methods, 500 for response URLs. */
  failAll(on?: boolean): void;
  /**
   * Messages people wrote in a thread (`threadTs`: its parent's ts, which may be one of them), as
   * `conversations.replies` serves them beside the bot's own posts. Returns each message's ts.
   */
  seedThread(channel: string, threadTs: string, msgs: { user: string; text: string; ts?: string }[]): string[];
  /**
   * The messages visible in a channel (posted or streamed, as last edited or appended to), in order.
   * Ephemerals are not listed. `streaming`: a stream not stopped yet.
   */
  visible(channel: string): { ts: string; text: string; thread_ts?: string; streaming?: boolean }[];
  /** A response_url served by this fake (as Slack's would be), for a signed payload's `response_url`. */
  responseUrl(id: string): string;
  /** What was posted to the response_url `id`, in order. */
  responses(id: string): Record<string, unknown>[];
  /**
   * The next call matching `where` is applied (recorded, messages changed) but its answer is held
   * until `release()` (or forever: a caller killed meanwhile never hears back). Resolves when it arrives.
   */
  hold(where: (c: SlackApiCall) => boolean): Promise<{ call: SlackApiCall; release: () => void }>;
  /** Accept a new token for a team (e.g. after an install). */
  addToken(token: string, teamId: string, botUserId?: string): void;
  /**
   * Sign in with Slack: the OpenID issuer to put in SLACK_OIDC_ISSUER (discovery, `/openid/connect/authorize`,
   * `openid.connect.token`), and who the browser is signed in as (the authorize page approves at once as them).
   */
  oidc: { issuer: string; signedInAs: { teamId: string; userId: string; name: string } | undefined };
  stop(): Promise<void>;
}

function parseBody(raw: string, contentType: string): Record<string, unknown> {
  if (!raw) return {};
  if (contentType.includes('application/json')) return JSON.parse(raw) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    out[k] = /^[[{]/.test(v) ? safeJson(v) : v;
  }
  return out;
}

const safeJson = (v: string): unknown => {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
};

const readAll = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });

/**
 * A loopback fake of the Slack Web API (`POST <base>/<method>`, form or JSON, Bearer token).
 * Records every call (method, body, token) so tests can assert on them and scan them for leaked
 * secrets; answers auth.test, chat.postMessage/postEphemeral/update, views.open, users.info (names,
 * profile, email), team.info (`teamNames`), conversations.open/info/replies (`seedThread`),
 * oauth.v2.access, apps.connections.open (with a Socket Mode WebSocket at `/socket`: `socketSend`),
 * chat.startStream/appendStream/stopStream (recipient required outside DMs),
 * assistant.threads.setStatus/setSuggestedPrompts/setTitle; refuses any method on demand (`refuse`);
 * answers 429 with Retry-After on demand (`rateLimit`). Keeps each
 * channel's visible messages (`visible`), refuses channels on demand (`channelError`), serves
 * response URLs at `/hooks/<id>` (`responseUrl`, `responses`) and can fail every route (`failAll`).
 */
export async function startSlackApi(opts: SlackApiOptions = {}): Promise<SlackApi> {
  const calls: SlackApiCall[] = [];
  const users = new Map<string, SlackFakeUser>();
  const teamNames = new Map<string, string>();
  const installs = new Map<string, SlackFakeInstall>();
  const tokens = new Map(Object.entries(opts.tokens ?? {}));
  const limits = new Map<string, { seconds: number; times: number }>();
  const waiters: { method: string; where: (c: SlackApiCall) => boolean; resolve: (c: SlackApiCall) => void }[] = [];
  let seq = 1_700_000_000;
  const channelErrors = new Map<string, string>();
  const messages = new Map<string, { ts: string; text: string; thread_ts?: string; streaming?: boolean }[]>();
  const refusals = new Map<string, string>();
  /** The text a streaming call adds: its `markdown_text` and its `markdown_text` chunks. */
  const streamedText = (body: Record<string, unknown>) =>
    String(body['markdown_text'] ?? '') +
    ((body['chunks'] as { type?: string; text?: string }[] | undefined) ?? [])
      .filter((c) => c.type === 'markdown_text')
      .map((c) => c.text ?? '')
      .join('');
  const seeded = new Map<string, { ts: string; text: string; thread_ts: string; user: string }[]>();
  /** `conversations.replies`: the parent and its replies, oldest first, people's and the bot's, up to `limit`. */
  const replies = (channel: string, ts: string, limit: number) => {
    const bot = (messages.get(channel) ?? []).map((m) => ({ ...m, bot_id: 'B_FAKE', user: 'UBOT' }));
    const all = [...(seeded.get(channel) ?? []), ...bot].filter((m) => m.ts === ts || m.thread_ts === ts);
    return all.sort((a, b) => Number(a.ts) - Number(b.ts)).slice(0, limit);
  };
  const responses = new Map<string, Record<string, unknown>[]>();
  const holds: {
    where: (c: SlackApiCall) => boolean;
    resolve: (h: { call: SlackApiCall; release: () => void }) => void;
  }[] = [];
  let failing = false;

  const teamOf = (token: string | undefined): { teamId: string; botUserId: string } | undefined => {
    if (tokens.size === 0) return token ? { teamId: 'T_DEFAULT', botUserId: 'UBOT' } : undefined;
    const t = token ? tokens.get(token) : undefined;
    return t ? { teamId: t.teamId, botUserId: t.botUserId ?? 'UBOT' } : undefined;
  };

  const answer = (
    method: string,
    body: Record<string, unknown>,
    token: string | undefined,
  ): Record<string, unknown> => {
    if (method === 'openid.connect.token') {
      // The id_token comes straight from the token endpoint, so (like Slack's) it is trusted without a signature check.
      const grant = oidcCodes.get(String(body['code'] ?? ''));
      oidcCodes.delete(String(body['code'] ?? ''));
      if (
        !grant ||
        body['client_id'] !== grant.clientId ||
        body['redirect_uri'] !== grant.redirectUri ||
        !body['client_secret']
      )
        return { ok: false, error: 'invalid_code' };
      const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
      const claims = {
        iss: oidc.issuer,
        aud: grant.clientId,
        sub: grant.who.userId,
        'https://slack.com/user_id': grant.who.userId,
        'https://slack.com/team_id': grant.who.teamId,
        name: grant.who.name,
        iat: Math.floor(Date.now() / 1000),
      };
      return {
        ok: true,
        access_token: `xoxp-oidc-${seq++}`,
        token_type: 'Bearer',
        id_token: `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64(claims)}.sig`,
      };
    }
    if (method === 'oauth.v2.access') {
      const install = installs.get(String(body['code']));
      if (!install) return { ok: false, error: 'invalid_code' };
      tokens.set(install.botToken, { teamId: install.teamId, botUserId: install.botUserId });
      return {
        ok: true,
        app_id: 'A_FAKE',
        token_type: 'bot',
        scope: 'app_mentions:read,chat:write,commands',
        access_token: install.botToken,
        bot_user_id: install.botUserId ?? 'UBOT',
        team: { id: install.teamId, name: install.teamName ?? install.teamId },
        enterprise: null,
        is_enterprise_install: false,
        authed_user: { id: 'UINSTALLER' },
      };
    }
    const team = teamOf(token);
    if (!team) return { ok: false, error: token ? 'invalid_auth' : 'not_authed' };
    const channel = String(body['channel'] ?? '');
    const ts = () => `${seq++}.000100`;
    if (failing) return { ok: false, error: 'fatal_error' };
    const refused = channelErrors.get(channel);
    if (refused && ['chat.postMessage', 'chat.postEphemeral', 'chat.update', 'chat.startStream'].includes(method))
      return { ok: false, error: refused };
    const refusal = refusals.get(method);
    if (refusal) return { ok: false, error: refusal };
    const streamed = streamAnswer(method, body, channel, ts);
    if (streamed) return streamed;
    switch (method) {
      case 'auth.test':
        return {
          ok: true,
          url: 'https://fake.slack.com/',
          team: 'Fake',
          user: 'onbehalf',
          team_id: team.teamId,
          user_id: team.botUserId,
          bot_id: 'B_FAKE',
        };
      case 'chat.postMessage': {
        const t = ts();
        const list = messages.get(channel) ?? [];
        list.push({
          ts: t,
          text: String(body['text'] ?? ''),
          ...(body['thread_ts'] ? { thread_ts: String(body['thread_ts']) } : {}),
        });
        messages.set(channel, list);
        return {
          ok: true,
          channel,
          ts: t,
          message: { type: 'message', text: body['text'], ts: t, thread_ts: body['thread_ts'] },
        };
      }
      case 'chat.postEphemeral':
        return { ok: true, message_ts: ts() };
      case 'chat.update': {
        const m = messages.get(channel)?.find((x) => x.ts === body['ts']);
        if (!m) return { ok: false, error: 'message_not_found' };
        m.text = String(body['text'] ?? '');
        return { ok: true, channel, ts: body['ts'], text: body['text'] };
      }
      case 'views.open':
        return body['trigger_id']
          ? { ok: true, view: { id: `V${seq++}`, ...(body['view'] as object) } }
          : { ok: false, error: 'invalid_arguments' };
      case 'users.info': {
        const u = users.get(String(body['user']));
        if (!u) return { ok: false, error: 'user_not_found' };
        const { display_name, real_name, email, ...rest } = u;
        const profile = { display_name: display_name ?? '', real_name: real_name ?? '', ...(email ? { email } : {}) };
        return {
          ok: true,
          user: { name: u.id, is_admin: false, is_owner: false, ...rest, real_name, profile, team_id: team.teamId },
        };
      }
      case 'team.info':
        return { ok: true, team: { id: team.teamId, name: teamNames.get(team.teamId) ?? team.teamId } };
      case 'apps.connections.open':
        return { ok: true, url: `ws://127.0.0.1:${port}/socket` };
      case 'conversations.open':
        return { ok: true, channel: { id: `D${String(body['users'] ?? '').split(',')[0]}` } };
      case 'conversations.replies':
        return {
          ok: true,
          messages: replies(channel, String(body['ts'] ?? ''), Number(body['limit'] ?? 1000)),
          has_more: false,
        };
      case 'conversations.info':
        return { ok: true, channel: { id: channel, is_im: channel.startsWith('D') } };
      default:
        return { ok: false, error: 'unknown_method' };
    }
  };
  /** The streaming and assistant-thread methods; undefined for any other method. */
  const streamAnswer = (
    method: string,
    body: Record<string, unknown>,
    channel: string,
    ts: () => string,
  ): Record<string, unknown> | undefined => {
    const stream = messages.get(channel)?.find((x) => x.ts === body['ts']);
    switch (method) {
      case 'assistant.threads.setStatus':
      case 'assistant.threads.setSuggestedPrompts':
      case 'assistant.threads.setTitle':
        return body['channel_id'] && body['thread_ts'] ? { ok: true } : { ok: false, error: 'invalid_arguments' };
      case 'chat.startStream': {
        // Slack wants the recipient of a stream outside a DM.
        if (!channel.startsWith('D') && (!body['recipient_user_id'] || !body['recipient_team_id']))
          return { ok: false, error: 'invalid_arguments' };
        const t = ts();
        const m = {
          ts: t,
          text: streamedText(body),
          streaming: true,
          ...(body['thread_ts'] ? { thread_ts: String(body['thread_ts']) } : {}),
        };
        messages.set(channel, [...(messages.get(channel) ?? []), m]);
        return { ok: true, channel, ts: t };
      }
      case 'chat.appendStream':
      case 'chat.stopStream': {
        if (!stream) return { ok: false, error: 'message_not_found' };
        if (!stream.streaming) return { ok: false, error: 'message_not_in_streaming_state' };
        stream.text += streamedText(body);
        if (method === 'chat.stopStream') delete stream.streaming;
        return { ok: true, channel, ts: stream.ts };
      }
      default:
        return undefined;
    }
  };
  const oidc: SlackApi['oidc'] = { issuer: '', signedInAs: undefined };
  const oidcCodes = new Map<
    string,
    { clientId: string; redirectUri: string; who: { teamId: string; userId: string; name: string } }
  >();

  const server: Server = createServer((req, res) => {
    void (async () => {
      const raw = await readAll(req);
      const path = (req.url ?? '').split('?')[0]!;
      if (path === '/.well-known/openid-configuration') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(
          JSON.stringify({
            issuer: oidc.issuer,
            authorization_endpoint: `${oidc.issuer}/openid/connect/authorize`,
            token_endpoint: `${oidc.issuer}/api/openid.connect.token`,
            userinfo_endpoint: `${oidc.issuer}/api/openid.connect.userInfo`,
            scopes_supported: ['openid', 'profile', 'email'],
          }),
        );
        return;
      }
      if (path === '/openid/connect/authorize') {
        const q = new URL(req.url!, oidc.issuer).searchParams;
        const back = new URL(q.get('redirect_uri')!);
        if (!oidc.signedInAs) back.searchParams.set('error', 'access_denied');
        else {
          const code = `oidc-code-${seq++}`;
          oidcCodes.set(code, {
            clientId: q.get('client_id') ?? '',
            redirectUri: q.get('redirect_uri')!,
            who: oidc.signedInAs,
          });
          back.searchParams.set('code', code);
        }
        back.searchParams.set('state', q.get('state') ?? '');
        calls.push({
          method: 'openid.connect.authorize',
          token: undefined,
          body: Object.fromEntries(q),
          raw: '',
          at: Date.now(),
        });
        res.writeHead(302, { Location: back.href });
        res.end();
        return;
      }
      const body = parseBody(raw, req.headers['content-type'] ?? '');
      const hook = /^\/hooks\/([^/]+)$/.exec(path);
      if (hook) {
        // A response_url: JSON in, "ok" out, like Slack's hooks host.
        calls.push({ method: 'response_url', token: undefined, body, raw, at: Date.now() });
        if (failing) {
          res.writeHead(500);
          res.end('fatal_error');
          return;
        }
        const id = decodeURIComponent(hook[1]!);
        responses.set(id, [...(responses.get(id) ?? []), body]);
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end('ok');
        return;
      }
      const method = decodeURIComponent(path.replace(/^\/api\//, '').replace(/^\//, ''));
      const auth = req.headers.authorization;
      const token = auth?.startsWith('Bearer ')
        ? auth.slice(7)
        : typeof body['token'] === 'string'
          ? body['token']
          : undefined;
      const call: SlackApiCall = { method, token, body, raw, at: Date.now() };
      calls.push(call);
      for (const w of waiters.splice(0)) {
        if (w.method === method && w.where(call)) w.resolve(call);
        else waiters.push(w);
      }
      const limit = limits.get(method);
      if (limit && limit.times > 0) {
        limit.times--;
        res.writeHead(429, { 'Retry-After': String(limit.seconds), 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ ok: false, error: 'ratelimited' }));
        return;
      }
      const out = JSON.stringify(answer(method, body, token));
      const at = holds.findIndex((h) => h.where(call));
      if (at >= 0) {
        const [held] = holds.splice(at, 1);
        held!.resolve({
          call,
          release: () => (res.writeHead(200, { 'Content-Type': 'application/json' }), res.end(out)),
        });
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(out);
    })().catch((err: unknown) => {
      res.writeHead(500);
      res.end(String(err));
    });
  });
  const wss = new WebSocketServer({ server, path: '/socket' });
  const sockets = new Set<WebSocket>();
  const acks = new Map<string, (m: { envelope_id: string; payload?: unknown }) => void>();
  let connected: () => void = () => {};
  const whenConnected = new Promise<void>((resolve) => (connected = resolve));
  wss.on('connection', (ws) => {
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
    ws.on('message', (data: Buffer) => {
      const m = JSON.parse(data.toString('utf8')) as { envelope_id: string; payload?: unknown };
      acks.get(m.envelope_id)?.(m);
    });
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: 1,
        connection_info: { app_id: 'A_FAKE' },
        debug_info: { host: 'fake' },
      }),
    );
    connected();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  oidc.issuer = `http://127.0.0.1:${port}`;

  const url = `http://127.0.0.1:${port}/api/`;
  return {
    url,
    appEnv: (signingSecret, botToken) => ({
      SLACK_SIGNING_SECRET: signingSecret,
      SLACK_BOT_TOKEN: botToken,
      SLACK_API_URL: url.replace(/\/$/, ''),
    }),
    calls,
    users,
    teamNames,
    installs,
    callsTo: (method) => calls.filter((c) => c.method === method),
    rateLimit: (method, seconds, times = 1) => void limits.set(method, { seconds, times }),
    waitFor(method, where = () => true, timeoutMs = 5000) {
      const found = calls.find((c) => c.method === method && where(c));
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${method} call within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({ method, where, resolve: (c) => (clearTimeout(timer), resolve(c)) });
      });
    },
    containing: (...values) =>
      calls.filter((c) => values.some((v) => v && (c.raw.includes(v) || c.token?.includes(v)))),
    socketSend(type, payload, o = {}) {
      const envelopeId = o.envelopeId ?? `env-${seq++}`;
      return new Promise((resolve) => {
        const timer = setTimeout(() => (acks.delete(envelopeId), resolve(undefined)), 5000);
        acks.set(envelopeId, (m) => (clearTimeout(timer), acks.delete(envelopeId), resolve(m)));
        const msg = {
          envelope_id: envelopeId,
          type,
          payload,
          accepts_response_payload: type !== 'events_api',
          retry_attempt: o.retryAttempt ?? 0,
          retry_reason: o.retryAttempt ? 'timeout' : '',
        };
        for (const ws of sockets) ws.send(JSON.stringify(msg));
      });
    },
    socketClients: () => sockets.size,
    socketConnected: (timeoutMs = 5000) =>
      Promise.race([
        whenConnected,
        new Promise<void>((_, reject) =>
          setTimeout(() => reject(new Error('no Socket Mode client connected')), timeoutMs).unref(),
        ),
      ]),
    refuse: (method, error) => void (error ? refusals.set(method, error) : refusals.delete(method)),
    channelError: (channel, error) => void channelErrors.set(channel, error),
    failAll: (on = true) => void (failing = on),
    visible: (channel) => (messages.get(channel) ?? []).map((m) => ({ ...m })),
    seedThread: (channel, threadTs, msgs) => {
      const list = seeded.get(channel) ?? [];
      seeded.set(channel, list);
      return msgs.map((m) => {
        const ts = m.ts ?? `${seq++}.000050`;
        list.push({ ts, text: m.text, thread_ts: threadTs, user: m.user });
        return ts;
      });
    },
    responseUrl: (id) => `http://127.0.0.1:${port}/hooks/${encodeURIComponent(id)}`,
    responses: (id) => responses.get(id) ?? [],
    hold: (where) => new Promise((resolve) => void holds.push({ where, resolve })),
    addToken: (token, teamId, botUserId) => void tokens.set(token, { teamId, botUserId }),
    oidc,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const ws of sockets) ws.terminate();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
