import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import { guildPayload, messagePayload, userObject, type FakeGuild } from './discord-payloads.js';

export type { FakeGuild };

/** One REST request the fake received, as a test would scan it. */
export interface RecordedCall {
  method: string;
  /** Path after `/api/v10`, e.g. `/channels/1/messages`. */
  path: string;
  query: string;
  authorization: string | undefined;
  body: unknown;
  raw: string;
  status: number;
  at: number;
}

/** A chat user as the fake's payloads name them. */
export interface FakeUser {
  id: string;
  username: string;
  /** Member permissions bitfield in guilds (default `0`; `8` Administrator, `32` Manage Guild). */
  permissions?: string;
  /** The display name across Discord (default the username). */
  globalName?: string;
  /** The nickname in guilds (default none). */
  nick?: string;
}

interface Session {
  id: string;
  seq: number;
  log: { s: number; payload: string }[];
  socket?: WebSocket;
}

/** Discord's epoch (2015-01-01): a snowflake's top bits are milliseconds since it. */
export const DISCORD_EPOCH = 1_420_070_400_000;
let counter = 0n;
/** A fresh snowflake whose timestamp is now (discord.js derives `createdTimestamp` from it). */
export const snowflake = (): string => String((BigInt(Date.now() - DISCORD_EPOCH) << 22n) | (counter++ & 0x3fffffn));

/**
 * What Discord refuses of an interaction callback that opens a modal (type 9): one answering a
 * modal submission (type 5; a modal cannot open another), or a modal without 1 to 5 rows.
 */
function modalRefusal(body: Record<string, unknown>, interactionType: number | undefined): unknown {
  if (body['type'] !== 9) return undefined;
  if (interactionType === 5)
    return { type: { _errors: [{ code: 'INTERACTION_RESPONSE_TYPE_INVALID', message: 'Modal after modal' }] } };
  const rows = ((body['data'] ?? {}) as { components?: unknown[] }).components ?? [];
  if (rows.length < 1 || rows.length > 5)
    return {
      data: {
        components: { _errors: [{ code: 'BASE_TYPE_BAD_LENGTH', message: 'Must be between 1 and 5 in length.' }] },
      },
    };
  return undefined;
}

/**
 * A loopback Discord: one HTTP server serving REST under `/api/v10` and a gateway WebSocket on the
 * same port (HELLO, IDENTIFY→READY+GUILD_CREATE, heartbeat ACK, RESUME with replay). It dispatches
 * INTERACTION_CREATE / MESSAGE_CREATE on demand, answers interaction callbacks 204 with no body,
 * records every REST call (body and Authorization header) in `calls`, serves each channel's message
 * history (people's messages, dispatched or `seedMessages`, and the bot's posts), can answer 429s on demand,
 * and can drop the gateway connection. Start with `FakeDiscord.start()`, stop with `stop()`.
 */
export class FakeDiscord {
  readonly calls: RecordedCall[] = [];
  readonly gatewayOps: { op: number; d: unknown }[] = [];
  /** Registered application commands, by `global` or guild id. */
  readonly commands = new Map<string, unknown[]>();
  readonly bot = { id: snowflake(), username: 'onbehalf', bot: true };
  identifies = 0;
  resumes = 0;
  /** The most gateway connections that were identified (or resumed) at the same moment; one bot should hold one. */
  maxLiveSessions = 0;
  #live = new Set<WebSocket>();
  #session: Session | undefined;
  #rateLimits: { match: (c: RecordedCall) => boolean; times: number; retryAfterSec: number }[] = [];
  #dmChannels = new Map<string, string>();
  /** Each channel's messages (people's, dispatched or seeded, and the bot's posts), oldest first. */
  #history = new Map<string, ReturnType<typeof messagePayload>[]>();
  #waiters: (() => void)[] = [];
  #expiredTokens = new Set<string>();
  /** The type of each dispatched interaction, by id (what Discord checks a callback against). */
  #interactionTypes = new Map<string, number>();
  #oauthCodes = new Map<string, { redirectUri: string; user: { id: string; username: string } }>();
  #oauthTokens = new Map<string, { id: string; username: string }>();
  /** OAuth2 `identify`: who the browser is signed in to Discord as (the authorize page approves at once as them). */
  signedInAs: { id: string; username: string } | undefined;
  /** The OAuth2 client secret the token endpoint accepts (Basic auth with the application id). */
  clientSecret = 'discord-client-secret-fake';

  private constructor(
    private readonly server: Server,
    private readonly wss: WebSocketServer,
    readonly port: number,
    readonly applicationId: string,
    readonly guilds: FakeGuild[],
    private readonly heartbeatIntervalMs: number,
  ) {}

  /** Starts on a free loopback port. Defaults: one guild `Acme` with channel `general`. */
  static async start(
    opts: { guilds?: FakeGuild[]; applicationId?: string; heartbeatIntervalMs?: number } = {},
  ): Promise<FakeDiscord> {
    const guilds = opts.guilds ?? [{ id: snowflake(), name: 'Acme', channels: [{ id: snowflake(), name: 'general' }] }];
    const server = createServer();
    const wss = new WebSocketServer({ server });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const fake = new FakeDiscord(
      server,
      wss,
      port,
      opts.applicationId ?? snowflake(),
      guilds,
      opts.heartbeatIntervalMs ?? 41_250,
    );
    server.on('request', (req, res) => void fake.#rest(req, res));
    wss.on('connection', (ws) => fake.#gateway(ws));
    return fake;
  }

  /** Base for `DISCORD_API_URL` / the REST `api` option. */
  /** The app's environment for this fake: the bot token, the application id and the REST base. */
  appEnv(botToken: string): Record<string, string> {
    return { DISCORD_TOKEN: botToken, DISCORD_APPLICATION_ID: this.applicationId, DISCORD_API_URL: this.apiUrl };
  }

  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api`;
  }

  /** Whether a client is connected and identified or resumed. */
  get connected(): boolean {
    return Boolean(this.#session?.socket);
  }

  /** The next `times` requests matching `match` are answered 429 with `retry_after`. */
  rateLimit(match: (c: RecordedCall) => boolean, opts: { times?: number; retryAfterSec?: number } = {}): void {
    this.#rateLimits.push({ match, times: opts.times ?? 1, retryAfterSec: opts.retryAfterSec ?? 0.5 });
  }

  /** From now on the interaction webhook with `token` answers 401 Invalid Webhook Token (as after 15 minutes). */
  expireInteraction(token: string): void {
    this.#expiredTokens.add(token);
  }

  /** Kills the gateway socket without a close frame (as a network drop); the session stays resumable. */
  dropConnection(): void {
    const s = this.#session?.socket;
    if (this.#session) this.#session.socket = undefined;
    s?.terminate();
  }

  /** Sends a dispatch event; while disconnected it is kept and replayed on RESUME. */
  dispatch(t: string, d: unknown): void {
    const session = this.#session;
    if (!session) throw new Error('no gateway session: the client has not identified');
    const s = ++session.seq;
    const payload = JSON.stringify({ op: 0, t, s, d });
    session.log.push({ s, payload });
    session.socket?.send(payload);
  }

  /** Dispatches a `/onbehalf` command; `sub` is `[subcommand]` or `[group, subcommand]`. Returns the interaction. */
  command(
    user: FakeUser,
    where: { guildId?: string; channelId: string },
    sub: string[],
    options: Record<string, string> = {},
  ) {
    const opts = Object.entries(options).map(([name, value]) => ({ type: 3, name, value }));
    const leaf = { type: 1, name: sub[sub.length - 1]!, options: opts };
    const tree = sub.length === 2 ? [{ type: 2, name: sub[0]!, options: [leaf] }] : [leaf];
    return this.#interaction(2, user, where, { id: snowflake(), name: 'onbehalf', type: 1, options: tree });
  }

  /** Dispatches a click on a button with `customId` on a bot message. */
  click(user: FakeUser, where: { guildId?: string; channelId: string }, customId: string) {
    const message = messagePayload({
      id: snowflake(),
      channelId: where.channelId,
      guildId: where.guildId,
      author: this.bot,
      content: '',
      flags: 64,
    });
    return this.#interaction(3, user, where, { custom_id: customId, component_type: 2 }, { message });
  }

  /** Dispatches a modal submission with text inputs `values` (field id → value). */
  submitModal(
    user: FakeUser,
    where: { guildId?: string; channelId: string },
    customId: string,
    values: Record<string, string>,
  ) {
    const components = Object.entries(values).map(([id, value]) => ({
      type: 1,
      components: [{ type: 4, custom_id: id, value }],
    }));
    return this.#interaction(5, user, where, { custom_id: customId, components });
  }

  /** Dispatches a message from `user`; in a guild when `guildId` is given, else a DM. `mention`: the bot is mentioned. */
  message(
    user: FakeUser,
    where: { guildId?: string; channelId: string },
    content: string,
    opts: { mention?: boolean } = {},
  ) {
    const id = snowflake();
    const mention = opts.mention ?? Boolean(where.guildId);
    const text = mention && where.guildId ? `<@${this.bot.id}> ${content}` : content;
    const msg = messagePayload({
      id,
      channelId: where.channelId,
      guildId: where.guildId,
      author: user,
      content: text,
      mentions: mention ? [this.bot] : [],
    });
    const member = where.guildId
      ? { member: { roles: [], joined_at: new Date(0).toISOString(), deaf: false, mute: false, flags: 0 } }
      : {};
    this.dispatch('MESSAGE_CREATE', { ...msg, ...member, ...(where.guildId ? {} : { channel_type: 1 }) });
    this.#remember(msg);
    return { id };
  }

  /** Messages people wrote earlier in `channelId` (no gateway event): what a read of its history returns. */
  seedMessages(channelId: string, msgs: { author: FakeUser; content: string }[]): string[] {
    return msgs.map((m) => {
      const id = snowflake();
      this.#remember(messagePayload({ id, channelId, author: m.author, content: m.content }));
      return id;
    });
  }

  #remember(msg: ReturnType<typeof messagePayload>): void {
    const list = this.#history.get(msg.channel_id) ?? [];
    list.push(msg);
    this.#history.set(msg.channel_id, list);
  }

  /** The DM channel id the fake hands out for a user (created on first request). */
  dmChannelOf(userId: string): string {
    let id = this.#dmChannels.get(userId);
    if (!id) this.#dmChannels.set(userId, (id = snowflake()));
    return id;
  }

  /** Resolves with the first recorded call matching `match` (already recorded or future). */
  async waitForCall(match: (c: RecordedCall) => boolean, timeoutMs = 5000): Promise<RecordedCall> {
    return this.#waitFor(() => this.calls.find(match), timeoutMs, 'REST call');
  }

  /** Resolves when `n` calls match. */
  async waitForCalls(match: (c: RecordedCall) => boolean, n: number, timeoutMs = 5000): Promise<RecordedCall[]> {
    return this.#waitFor(
      () => {
        const found = this.calls.filter(match);
        return found.length >= n ? found : undefined;
      },
      timeoutMs,
      `${n} REST calls`,
    );
  }

  /** Resolves when a client is connected (after IDENTIFY or RESUME). */
  async waitConnected(timeoutMs = 10_000): Promise<void> {
    await this.#waitFor(() => (this.connected ? true : undefined), timeoutMs, 'gateway connection');
  }

  /** Recorded calls whose path, query, Authorization header or body contain any of `values`. */
  containing(...values: string[]): RecordedCall[] {
    return this.calls.filter((c) =>
      values.some(
        (v) =>
          v && (c.raw.includes(v) || c.path.includes(v) || c.query.includes(v) || (c.authorization ?? '').includes(v)),
      ),
    );
  }

  async stop(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  async #waitFor<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = probe();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`FakeDiscord: timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  #interaction(
    type: number,
    user: FakeUser,
    where: { guildId?: string; channelId: string },
    data: unknown,
    extra: Record<string, unknown> = {},
  ) {
    const id = snowflake();
    const token = `aW50ZXJhY3Rpb24${randomBytes(24).toString('base64url')}`;
    this.#interactionTypes.set(id, type);
    const u = userObject(user);
    const who = where.guildId
      ? {
          guild_id: where.guildId,
          member: {
            user: u,
            nick: user.nick ?? null,
            roles: [],
            permissions: user.permissions ?? '0',
            joined_at: new Date(0).toISOString(),
            deaf: false,
            mute: false,
            flags: 0,
          },
        }
      : { user: u };
    const channelType = where.guildId ? (this.#channel(where.channelId)?.type ?? 0) : 1;
    this.dispatch('INTERACTION_CREATE', {
      id,
      application_id: this.applicationId,
      type,
      token,
      version: 1,
      data,
      ...who,
      ...extra,
      channel_id: where.channelId,
      channel: { id: where.channelId, type: channelType, ...(where.guildId ? { guild_id: where.guildId } : {}) },
      app_permissions: '2248473465835073',
      locale: 'en-US',
      entitlements: [],
      context: where.guildId ? 0 : 1,
      authorizing_integration_owners: { 0: where.guildId ?? '0' },
    });
    return { id, token };
  }

  #channel(id: string) {
    for (const g of this.guilds) for (const c of g.channels) if (c.id === id) return c;
    return undefined;
  }

  #gateway(ws: WebSocket): void {
    ws.send(JSON.stringify({ op: 10, d: { heartbeat_interval: this.heartbeatIntervalMs } }));
    ws.on('message', (raw) => {
      const msg = JSON.parse(String(raw)) as { op: number; d: Record<string, unknown> | null };
      this.gatewayOps.push({ op: msg.op, d: msg.op === 2 || msg.op === 6 ? { ...msg.d, token: '[seen]' } : msg.d });
      if (msg.op === 1) ws.send(JSON.stringify({ op: 11 }));
      else if (msg.op === 2) this.#identify(ws);
      else if (msg.op === 6) this.#resume(ws, msg.d as { session_id: string; seq: number });
      this.#wake();
    });
    ws.on('close', () => {
      this.#live.delete(ws);
      if (this.#session?.socket === ws) this.#session.socket = undefined;
      this.#wake();
    });
  }

  #goLive(ws: WebSocket): void {
    this.#live.add(ws);
    this.maxLiveSessions = Math.max(this.maxLiveSessions, this.#live.size);
  }

  /** Gateway connections identified or resumed and still open. */
  get liveSessions(): number {
    return this.#live.size;
  }

  #identify(ws: WebSocket): void {
    this.identifies++;
    this.#goLive(ws);
    this.#session = { id: randomBytes(16).toString('hex'), seq: 0, log: [], socket: ws };
    this.dispatch('READY', {
      v: 10,
      user: userObject(this.bot),
      guilds: this.guilds.map((g) => ({ id: g.id, unavailable: true })),
      session_id: this.#session.id,
      resume_gateway_url: `ws://127.0.0.1:${this.port}`,
      shard: [0, 1],
      application: { id: this.applicationId, flags: 0 },
      private_channels: [],
    });
    for (const g of this.guilds) this.dispatch('GUILD_CREATE', guildPayload(g));
  }

  #resume(ws: WebSocket, d: { session_id: string; seq: number }): void {
    const session = this.#session;
    if (!session || session.id !== d.session_id) {
      ws.send(JSON.stringify({ op: 9, d: false }));
      return;
    }
    this.resumes++;
    this.#goLive(ws);
    session.socket = ws;
    for (const e of session.log) if (e.s > d.seq) ws.send(e.payload);
    this.dispatch('RESUMED', {});
  }

  async #rest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://x');
    const call: RecordedCall = {
      method: req.method ?? 'GET',
      path: decodeURIComponent(url.pathname.replace(/^\/api(\/v\d+)?/, '')),
      query: url.search,
      authorization: req.headers.authorization,
      body: raw && (req.headers['content-type'] ?? '').includes('json') ? JSON.parse(raw) : raw,
      raw,
      status: 0,
      at: Date.now(),
    };
    this.calls.push(call);
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      call.status = status;
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
      this.#wake();
    };
    const limit = this.#rateLimits.find((r) => r.times > 0 && r.match(call));
    if (limit) {
      limit.times--;
      const h = {
        'retry-after': String(limit.retryAfterSec),
        'x-ratelimit-limit': '5',
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset-after': String(limit.retryAfterSec),
        'x-ratelimit-bucket': 'fake',
        'x-ratelimit-scope': 'user',
      };
      return json(429, { message: 'You are being rate limited.', retry_after: limit.retryAfterSec, global: false }, h);
    }
    this.#route(call, json, res);
  }

  #route(call: RecordedCall, json: (status: number, body: unknown) => void, res: ServerResponse): void {
    const p = call.path;
    const body = (call.body ?? {}) as Record<string, unknown>;
    const appCommands = p.match(/^\/applications\/(\d+)(?:\/guilds\/(\d+))?\/commands$/);
    let m: RegExpMatchArray | null;
    if (call.method === 'GET' && p === '/gateway/bot') {
      return json(200, {
        url: `ws://127.0.0.1:${this.port}`,
        shards: 1,
        session_start_limit: { total: 1000, remaining: 1000, reset_after: 0, max_concurrency: 1 },
      });
    }
    if (call.method === 'POST' && /^\/interactions\/\d+\/[^/]+\/callback$/.test(p)) {
      const refused = modalRefusal(body, this.#interactionTypes.get(p.split('/')[2]!));
      if (refused) return json(400, { code: 50035, message: 'Invalid Form Body', errors: refused });
      // Discord answers 204 with no body; discord.js must not expect JSON here.
      call.status = 204;
      res.writeHead(204).end();
      this.#wake();
      return;
    }
    if (call.method === 'PUT' && appCommands) {
      if (appCommands[1] !== this.applicationId) return json(403, { message: 'Missing Access', code: 50001 });
      const list = (Array.isArray(call.body) ? call.body : []).map((c) => ({
        ...(c as object),
        id: snowflake(),
        application_id: appCommands[1],
        version: snowflake(),
      }));
      this.commands.set(appCommands[2] ?? 'global', list);
      return json(200, list);
    }
    if (call.method === 'GET' && p === '/oauth2/authorize') {
      const q = new URLSearchParams(call.query);
      const back = new URL(q.get('redirect_uri') ?? 'http://invalid/');
      if (q.get('client_id') !== this.applicationId || !this.signedInAs)
        back.searchParams.set('error', 'access_denied');
      else {
        const code = `dc-${snowflake()}`;
        this.#oauthCodes.set(code, { redirectUri: q.get('redirect_uri')!, user: this.signedInAs });
        back.searchParams.set('code', code);
      }
      back.searchParams.set('state', q.get('state') ?? '');
      call.status = 302;
      res.writeHead(302, { location: back.href }).end();
      this.#wake();
      return;
    }
    if (call.method === 'POST' && p === '/oauth2/token') {
      const form = new URLSearchParams(call.raw);
      const grant = this.#oauthCodes.get(form.get('code') ?? '');
      this.#oauthCodes.delete(form.get('code') ?? '');
      if (
        call.authorization !== `Basic ${Buffer.from(`${this.applicationId}:${this.clientSecret}`).toString('base64')}`
      )
        return json(401, { error: 'invalid_client' });
      if (!grant || grant.redirectUri !== form.get('redirect_uri')) return json(400, { error: 'invalid_grant' });
      const token = `dc-access-${snowflake()}`;
      this.#oauthTokens.set(token, grant.user);
      return json(200, { access_token: token, token_type: 'Bearer', expires_in: 604800, scope: 'identify' });
    }
    if (call.method === 'GET' && p === '/users/@me') {
      const u = this.#oauthTokens.get(call.authorization?.replace(/^Bearer /, '') ?? '');
      if (!u) return json(401, { message: '401: Unauthorized', code: 0 });
      return json(200, { id: u.id, username: u.username, global_name: u.username, discriminator: '0' });
    }
    if (call.method === 'POST' && p === '/users/@me/channels') {
      const recipient = String(body['recipient_id']);
      return json(200, {
        id: this.dmChannelOf(recipient),
        type: 1,
        recipients: [userObject({ id: recipient, username: `user${recipient}` })],
        last_message_id: null,
      });
    }
    if ((m = p.match(/^\/guilds\/(\d+)\/members\/(\d+)$/)) && call.method === 'GET') {
      const g = this.guilds.find((x) => x.id === m![1]);
      if (!g || (g.members && !g.members.includes(m[2]!))) return json(404, { message: 'Unknown Member', code: 10007 });
      return json(200, {
        user: userObject({ id: m[2]!, username: `user${m[2]}` }),
        roles: [],
        joined_at: new Date(0).toISOString(),
        deaf: false,
        mute: false,
        flags: 0,
      });
    }
    const reply = (channelId: string, id = snowflake()) =>
      json(
        200,
        messagePayload({
          id,
          channelId,
          author: this.bot,
          content: String(body['content'] ?? ''),
          flags: Number(body['flags'] ?? 0),
          extra: { components: body['components'] ?? [] },
        }),
      );
    if ((m = p.match(/^\/channels\/(\d+)\/messages$/)) && call.method === 'POST') {
      const id = snowflake();
      this.#remember(
        messagePayload({ id, channelId: m[1]!, author: this.bot, content: String(body['content'] ?? '') }),
      );
      return reply(m[1]!, id);
    }
    if ((m = p.match(/^\/channels\/(\d+)\/messages$/)) && call.method === 'GET') {
      // Newest first, at most `limit` (default 50), as Discord answers.
      const limit = Number(new URLSearchParams(call.query).get('limit') ?? 50);
      return json(200, [...(this.#history.get(m[1]!) ?? [])].reverse().slice(0, limit));
    }
    if ((m = p.match(/^\/channels\/(\d+)\/messages\/(\d+)$/)) && call.method === 'PATCH') return reply(m[1]!, m[2]!);
    if ((m = p.match(/^\/webhooks\/\d+\/([^/]+)/)) && this.#expiredTokens.has(m[1]!))
      return json(401, { message: 'Invalid Webhook Token', code: 50027 });
    if ((m = p.match(/^\/webhooks\/\d+\/[^/]+$/)) && call.method === 'POST') return reply('0');
    if (
      (m = p.match(/^\/webhooks\/\d+\/[^/]+\/messages\/([^/]+)$/)) &&
      (call.method === 'PATCH' || call.method === 'GET')
    ) {
      return reply('0', m[1] === '@original' ? snowflake() : m[1]!);
    }
    if ((m = p.match(/^\/webhooks\/\d+\/[^/]+\/messages\/([^/]+)$/)) && call.method === 'DELETE') {
      call.status = 204;
      res.writeHead(204).end();
      this.#wake();
      return;
    }
    return json(404, { message: `fake Discord has no route ${call.method} ${p}`, code: 0 });
  }
}
