import { createHmac, timingSafeEqual } from 'node:crypto';
import { and, eq, lt } from 'drizzle-orm';
import { z } from 'zod';
import { providerExtra, type users } from '../db/schema/index.js';
import { authorizeUrl, pkceChallenge, redirectUriOf } from './authorize.js';
import type { OAuthDeps } from './deps.js';
import { fail, type ConsentPage, type ContinueOutcome, type FlowError } from './pages.js';
import type { ProviderRow, ProviderStore } from './providers.js';
import { b64, hash, type FlowStates, type StateFields } from './states.js';
import { serviceNameSchema } from '../names.js';
import { ServiceIdentities } from './services.js';
import type { ConnectionStore } from './store.js';

export const START_PURPOSE = 'oauth-start';
export const startClaims = z.object({
  o: z.string().min(1),
  u: z.string().min(1),
  p: z.string().min(1),
  r: z.string().optional(),
  s: z.array(z.string()).max(50).optional(),
  /** A service connect: the org's service identity the grant is for (the link's user is the admin). */
  sv: serviceNameSchema.optional(),
});

const BROWSER = /^[A-Za-z0-9_-]{43}$/;

type Loaded = {
  kind: 'loaded';
  jti: string;
  expiresAt: number;
  claims: z.infer<typeof startClaims>;
  p: ProviderRow;
  user: typeof users.$inferSelect;
};

/**
 * The consent step of a connect link: `GET` shows who and what (spends nothing, so link scanners
 * change nothing); Continue (`POST`, CSRF tied to the link) spends the link, stores the state and
 * binds it to this browser by a cookie; with chat sign-in configured, the platform's sign-in first.
 */
export class ConsentStep {
  constructor(
    private readonly d: OAuthDeps,
    private readonly providers: ProviderStore,
    private readonly conns: ConnectionStore,
    private readonly states: FlowStates,
  ) {}

  async #load(t: string): Promise<Loaded | FlowError> {
    const check = await this.d.links.verify<unknown>(START_PURPOSE, t);
    if (check.kind === 'expired') return fail(400, { kind: 'link_expired' });
    if (check.kind !== 'ok') return fail(400, { kind: 'link_invalid' });
    const claims = startClaims.safeParse(check.claims);
    if (!claims.success) return fail(400, { kind: 'link_invalid' });
    const p = await this.providers.get(claims.data.o, claims.data.p);
    const s = this.d.store;
    const { users } = s.t;
    const user = await s.first(
      s.db
        .select()
        .from(users)
        .where(and(eq(users.id, claims.data.u), eq(users.orgId, claims.data.o))),
    );
    if (!p || !user) return fail(404, { kind: 'link_provider_gone' });
    const pkce = providerExtra(p).pkceMethods;
    if (pkce && !pkce.includes('S256')) return fail(400, { kind: 'pkce_unsupported' });
    // A row stored before the network guard, or since narrowed by the operator, is checked again here.
    if (!this.d.net.checkUrl(p.authorizeUrl).ok) return fail(400, { kind: 'authorize_url_refused' });
    return { kind: 'loaded', jti: check.jti, expiresAt: check.expiresAt, claims: claims.data, p, user };
  }

  /** The CSRF field for a link: an HMAC of its jti under a key derived from the sealing keyring. */
  csrfFor(jti: string): string {
    return createHmac('sha256', this.d.keyring.derive('oauth-csrf')!.key).update(jti).digest('base64url');
  }

  async #scopes(l: Loaded): Promise<string[]> {
    const existing = l.claims.s?.length ? await this.conns.find(l.claims.o, l.claims.u, l.p.id) : undefined;
    // Incremental consent: ask for the union of what the provider asks, what the grant has, and what is new.
    return [...new Set([...l.p.scopes, ...(existing?.scopes ?? []), ...(l.claims.s ?? [])])];
  }

  /** The platform whose sign-in proves this browser, if configured for one of the user's chat identities. */
  async #signInPlatform(orgId: string, userId: string): Promise<string | null> {
    const signIn = this.d.signIn;
    if (!signIn) return null;
    const s = this.d.store;
    const { linkedAccounts } = s.t;
    const mine = await s.rows(
      s.db
        .select()
        .from(linkedAccounts)
        .where(and(eq(linkedAccounts.orgId, orgId), eq(linkedAccounts.userId, userId))),
    );
    return mine.find((la) => signIn.has(la.platform))?.platform ?? null;
  }

  /** `GET /oauth/start`: the consent page. Reads only. */
  async page(t: string): Promise<ConsentPage> {
    const l = await this.#load(t);
    if (l.kind === 'error') return l;
    const s = this.d.store;
    const { usedLinks, orgs, linkedAccounts, workspaces } = s.t;
    if (await s.first(s.db.select().from(usedLinks).where(eq(usedLinks.jti, l.jti))))
      return fail(400, { kind: 'link_used' });
    const org = await s.first(s.db.select().from(orgs).where(eq(orgs.id, l.claims.o)));
    const identities = await s.rows(
      s.db
        .select({ platform: linkedAccounts.platform, name: linkedAccounts.displayName, workspace: workspaces.name })
        .from(linkedAccounts)
        .leftJoin(
          workspaces,
          and(eq(workspaces.platform, linkedAccounts.platform), eq(workspaces.workspaceId, linkedAccounts.workspaceId)),
        )
        .where(and(eq(linkedAccounts.orgId, l.claims.o), eq(linkedAccounts.userId, l.claims.u))),
    );
    const signIn = await this.#signInPlatform(l.claims.o, l.claims.u);
    const targets = [new URL(l.p.authorizeUrl).origin, ...(signIn ? [this.d.signIn!.origin(signIn)] : [])].filter(
      (o): o is string => Boolean(o),
    );
    return {
      kind: 'consent',
      token: t,
      csrf: this.csrfFor(l.jti),
      userName: l.user.displayName,
      orgName: org?.name ?? '',
      identities,
      provider: l.p.displayName,
      scopes: await this.#scopes(l),
      service: l.claims.sv ?? null,
      signIn,
      formTargets: [...new Set(targets)],
    };
  }

  /** `POST /oauth/start` (Continue): checks CSRF, spends the link, stores the state bound to this browser. */
  async continue(t: string, csrf: string | undefined, browser: string | undefined): Promise<ContinueOutcome> {
    const l = await this.#load(t);
    if (l.kind === 'error') return l;
    const want = Buffer.from(this.csrfFor(l.jti));
    const got = Buffer.from(csrf ?? '');
    if (got.length !== want.length || !timingSafeEqual(got, want)) {
      this.d.log.warn({ provider: l.p.slug }, 'connect Continue without a valid CSRF field refused');
      return fail(403, { kind: 'not_from_consent_page' });
    }
    const now = Date.now();
    const s = this.d.store;
    const { usedLinks } = s.t;
    await s.changes(s.db.delete(usedLinks).where(lt(usedLinks.expiresAt, now)));
    // Spent once by the primary key on `jti` (insert … on conflict do nothing): of two Continues, one inserts.
    const spent = await s.changes(
      s.db.insert(usedLinks).values({ jti: l.jti, expiresAt: l.expiresAt }).onConflictDoNothing(),
    );
    if (spent !== 1) return fail(400, { kind: 'link_used' });
    // One cookie per browser: a second flow in the same browser must not break the first.
    const b = browser && BROWSER.test(browser) ? browser : b64(32);
    const fields: StateFields = {
      orgId: l.claims.o,
      userId: l.claims.u,
      providerId: l.p.id,
      issuer: l.p.issuer,
      scopes: await this.#scopes(l),
      resumeCallId: l.claims.r ?? null,
      serviceUserId: l.claims.sv ? (await new ServiceIdentities(this.d).ensure(l.claims.o, l.claims.sv)).id : null,
    };
    const platform = await this.#signInPlatform(l.claims.o, l.claims.u);
    if (platform) {
      const { state, verifier } = await this.states.create(fields, `signin:${platform}`, hash(b));
      const redirectUri = redirectUriOf(this.d.publicUrl);
      const url = await this.d.signIn!.authorizeUrl(platform, state, pkceChallenge(verifier), redirectUri);
      if (!url) return fail(502, { kind: 'signin_unreachable', platform });
      return { kind: 'redirect', url, browser: b };
    }
    const { state, verifier } = await this.states.create(fields, 'connect', hash(b));
    const url = authorizeUrl(l.p, redirectUriOf(this.d.publicUrl), fields.scopes, state, verifier);
    return { kind: 'redirect', url, browser: b };
  }
}
