// "My connections" in the browser: the signed link chat hands out, the short session it opens, and what the page lists.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { and, desc, eq, lt } from 'drizzle-orm';
import { z } from 'zod';
import type { OAuthDeps } from './deps.js';
import type { ProviderStore } from './providers.js';
import type { ConnectionStore } from './store.js';

const LINK = 'me-link';
const SESSION = 'me-session';
const claims = z.object({ o: z.string().min(1), u: z.string().min(1) });

/** Lifetimes of the manage link and of the session it opens. */
export interface MyConnectionsOptions {
  /** How long a "Manage in browser" link can be opened. Default 600 s (10 minutes). */
  linkTtlSeconds?: number;
  /** How long the page's session cookie lasts once the link is opened. Default 900 s (15 minutes). */
  sessionTtlSeconds?: number;
  /** How many of the user's latest tool calls "last used" looks through. Default 500. */
  lastUsedScan?: number;
}

export const MY_CONNECTIONS_DEFAULTS: Required<MyConnectionsOptions> = {
  linkTtlSeconds: 600,
  sessionTtlSeconds: 900,
  lastUsedScan: 500,
};

/** Why the link or a form of the page was refused; nothing changed. */
export type MeProblem =
  | { kind: 'link_expired' }
  | { kind: 'link_invalid' }
  | { kind: 'link_used' }
  /** A form of the page without its CSRF field (or with another session's). */
  | { kind: 'not_from_page' }
  /** The user (or org) of the link is gone. */
  | { kind: 'user_gone' };

export type MeRefusal = { kind: 'error'; status: 400 | 403 | 404; problem: MeProblem };
/** Constant-time equality of a CSRF field with the expected one. */
function same(want: string, got: string | undefined): boolean {
  const w = Buffer.from(want);
  const g = Buffer.from(got ?? '');
  return g.length === w.length && timingSafeEqual(g, w);
}

const refuse = (status: MeRefusal['status'], problem: MeProblem): MeRefusal => ({ kind: 'error', status, problem });

/** What `GET /me?t=…` shows before anything is spent: whose connections the button opens. */
export type MeLinkPage = { kind: 'open'; token: string; csrf: string; userName: string; orgName: string } | MeRefusal;

/** A valid session: the chat user it is bound to and the CSRF field of its forms. */
export interface MeSession {
  orgId: string;
  userId: string;
  userName: string;
  orgName: string;
  csrf: string;
  /** Epoch ms. */
  expiresAt: number;
}

/** One connected account as the page lists it: never a token. */
export interface MyConnection {
  providerSlug: string;
  provider: string;
  vendorLogin: string | null;
  scopes: string[];
  status: 'active' | 'held' | 'needs_reauth' | 'revoked';
  /** Epoch ms of the first grant. */
  connectedAt: number;
  /** Epoch ms of the latest tool call that used it (from the audit log), or null. */
  lastUsedAt: number | null;
}

/**
 * The link opens nothing by itself (a link scanner's GET spends nothing and gets no session); the
 * page's button (POST, CSRF tied to the link) spends it once and returns a session token bound to
 * the link's chat user, which the web layer keeps in a short-lived cookie.
 */
export class MyConnections {
  readonly #o: Required<MyConnectionsOptions>;

  constructor(
    private readonly d: OAuthDeps,
    private readonly providers: ProviderStore,
    private readonly conns: ConnectionStore,
    o: MyConnectionsOptions = {},
  ) {
    this.#o = { ...MY_CONNECTIONS_DEFAULTS, ...o };
  }

  /** `PUBLIC_URL/me?t=…`: the user's private link to the page; single use, 10 minutes by default. */
  async link(orgId: string, userId: string): Promise<string> {
    const t = await this.d.links.sign(LINK, { o: orgId, u: userId }, this.#o.linkTtlSeconds);
    return `${this.d.publicUrl}/me?t=${encodeURIComponent(t)}`;
  }

  /** `GET /me?t=…`: who the link is for, and the CSRF field of its button. Reads only. */
  async peek(t: string): Promise<MeLinkPage> {
    const l = await this.#verify(LINK, t);
    if (l.kind === 'error') return l;
    const s = this.d.store;
    if (await s.first(s.db.select().from(s.t.usedLinks).where(eq(s.t.usedLinks.jti, l.jti))))
      return refuse(400, { kind: 'link_used' });
    return { kind: 'open', token: t, csrf: this.#csrf(LINK, l.jti), userName: l.userName, orgName: l.orgName };
  }

  /** The button of `GET /me?t=…`: checks its CSRF field, spends the link once, and returns the session token. */
  async open(
    t: string,
    csrf: string | undefined,
  ): Promise<{ kind: 'session'; token: string; maxAgeSeconds: number } | MeRefusal> {
    const l = await this.#verify(LINK, t);
    if (l.kind === 'error') return l;
    if (!same(this.#csrf(LINK, l.jti), csrf)) return refuse(403, { kind: 'not_from_page' });
    const s = this.d.store;
    const { usedLinks } = s.t;
    await s.changes(s.db.delete(usedLinks).where(lt(usedLinks.expiresAt, Date.now())));
    // Spent once by the primary key on `jti` (insert … on conflict do nothing): of two opens, one inserts.
    const spent = await s.changes(
      s.db.insert(usedLinks).values({ jti: l.jti, expiresAt: l.expiresAt }).onConflictDoNothing(),
    );
    if (spent !== 1) return refuse(400, { kind: 'link_used' });
    const token = await this.d.links.sign(SESSION, { o: l.orgId, u: l.userId }, this.#o.sessionTtlSeconds);
    return { kind: 'session', token, maxAgeSeconds: this.#o.sessionTtlSeconds };
  }

  /** The session a cookie holds, if it is valid and its user still exists. */
  async session(token: string | undefined): Promise<MeSession | undefined> {
    if (!token) return undefined;
    const l = await this.#verify(SESSION, token);
    if (l.kind === 'error') return undefined;
    const { jti, expiresAt, ...who } = l;
    return { ...who, expiresAt, csrf: this.#csrf(SESSION, jti) };
  }

  /** Whether a form's CSRF field is the one of this session. */
  csrfMatches(session: MeSession, csrf: string | undefined): boolean {
    return same(session.csrf, csrf);
  }

  /** The user's connected accounts, with provider names, when each was connected and last used. */
  async list(orgId: string, userId: string): Promise<MyConnection[]> {
    const byId = new Map((await this.providers.rowsOf(orgId)).map((p) => [p.id, p]));
    const used = await this.#lastUsed(orgId, userId);
    return (await this.conns.listFor(orgId, userId))
      .filter((c) => byId.has(c.providerId))
      .map((c) => ({
        providerSlug: byId.get(c.providerId)!.slug,
        provider: byId.get(c.providerId)!.displayName,
        vendorLogin: c.vendorLogin,
        scopes: c.scopes,
        status: c.status,
        connectedAt: c.createdAt,
        lastUsedAt: used.get(c.id) ?? null,
      }))
      .sort((a, b) => a.providerSlug.localeCompare(b.providerSlug));
  }

  /** Latest tool call per connection id among the user's recent calls. */
  async #lastUsed(orgId: string, userId: string): Promise<Map<string, number>> {
    const s = this.d.store;
    const a = s.t.auditEvents;
    const rows = await s.rows(
      s.db
        .select({ at: a.at, ids: a.connectionIds })
        .from(a)
        .where(and(eq(a.orgId, orgId), eq(a.actorUserId, userId), eq(a.category, 'tool_call'), eq(a.action, 'call')))
        .orderBy(desc(a.at))
        .limit(this.#o.lastUsedScan),
    );
    const out = new Map<string, number>();
    for (const r of rows) for (const id of r.ids ?? []) if (!out.has(id)) out.set(id, r.at);
    return out;
  }

  async #verify(purpose: string, t: string) {
    const check = await this.d.links.verify<unknown>(purpose, t);
    if (check.kind === 'expired') return refuse(400, { kind: 'link_expired' });
    const c = check.kind === 'ok' ? claims.safeParse(check.claims) : undefined;
    if (check.kind !== 'ok' || !c?.success) return refuse(400, { kind: 'link_invalid' });
    const s = this.d.store;
    const { users, orgs } = s.t;
    const row = await s.first(
      s.db
        .select({ userName: users.displayName, orgName: orgs.name })
        .from(users)
        .innerJoin(orgs, eq(orgs.id, users.orgId))
        .where(and(eq(users.id, c.data.u), eq(users.orgId, c.data.o))),
    );
    if (!row) return refuse(404, { kind: 'user_gone' });
    return {
      kind: 'ok' as const,
      orgId: c.data.o,
      userId: c.data.u,
      jti: check.jti,
      expiresAt: check.expiresAt,
      ...row,
    };
  }

  /** A form's CSRF field: an HMAC of the link's or session's jti under a key derived from the sealing keyring. */
  #csrf(purpose: string, jti: string): string {
    return createHmac('sha256', this.d.keyring.derive('me-csrf')!.key).update(`${purpose}:${jti}`).digest('base64url');
  }
}
