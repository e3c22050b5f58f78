import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { and, eq, lt } from 'drizzle-orm';
import { z } from 'zod';
import { newId } from '../db/index.js';
import { linkedAccounts, oauthStates, orgs, providerExtra, usedLinks, users, workspaces } from '../db/schema/index.js';
import { sealedTables } from '../db/sealed.js';
import { defaults, type OAuthDeps } from './deps.js';
import type { ProviderRow, ProviderStore } from './providers.js';
import type { ConnectionStore } from './store.js';

export const START_PURPOSE = 'oauth-start';
export const startClaims = z.object({
  o: z.string().min(1),
  u: z.string().min(1),
  p: z.string().min(1),
  r: z.string().optional(),
  s: z.array(z.string()).max(50).optional(),
});

/** A page that says what happened and that nothing changed. */
export type FlowError = { kind: 'error'; status: 400 | 403 | 404 | 409 | 502; title: string; message: string };

/** One chat identity of the link's user, as the consent page names it. */
export interface ShownIdentity {
  platform: string;
  workspace: string | null;
  name: string | null;
}

/** What `GET /oauth/start` shows: who and what is being connected, and the Continue form. */
export type ConsentPage =
  | {
      kind: 'consent';
      token: string;
      /** The CSRF field of the Continue form, tied to this link. */
      csrf: string;
      userName: string;
      orgName: string;
      identities: ShownIdentity[];
      provider: string;
      scopes: string[];
      /** Platform whose sign-in comes first (`slack`, `discord`), or null. */
      signIn: string | null;
      /** Origins the Continue form may end up at (the page CSP's `form-action`). */
      formTargets: string[];
    }
  | FlowError;

/** What Continue does: send the browser on (setting the binding cookie), or explain why not. */
export type ContinueOutcome = { kind: 'redirect'; url: string; browser: string } | FlowError;

/** A chat platform's own sign-in (Sign in with Slack, Discord `identify`), where configured. */
export interface ChatSignIn {
  /** Whether sign-in is configured for this platform. */
  has(platform: string): boolean;
  /** Origin of the platform's authorize page (for the consent page's CSP). */
  origin(platform: string): string | undefined;
  /** The platform's authorize URL for our state and PKCE challenge. */
  authorizeUrl(platform: string, state: string, challenge: string, redirectUri: string): Promise<string | undefined>;
  /** Exchanges the code; who the browser is on the platform. */
  verify(platform: string, code: string, verifier: string, redirectUri: string): Promise<SignedIn>;
}

/** The platform's answer: the signed-in user (and workspace/guild where the platform says one). */
export type SignedIn =
  { ok: true; workspaceId: string | null; userId: string; name: string | null } | { ok: false; reason: string };

export const hash = (s: string) => createHash('sha256').update(s).digest('hex');
const b64 = (n: number) => randomBytes(n).toString('base64url');
export const nothing = 'Nothing was changed.';
export const fail = (status: FlowError['status'], title: string, message: string): FlowError => ({
  kind: 'error',
  status,
  title,
  message: `${message} ${nothing}`,
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

/** Fields a state row carries from the link to the callback. */
export interface StateFields {
  orgId: string;
  userId: string;
  providerId: string;
  issuer: string | null;
  scopes: string[];
  resumeCallId: string | null;
}

/**
 * The consent step of a connect link: `GET` shows who and what (spends nothing, so link scanners
 * change nothing); Continue (`POST`, CSRF tied to the link) spends the link, stores the state and
 * binds it to this browser by a cookie; with chat sign-in configured, the platform's sign-in first.
 */
export class ConsentStep {
  readonly #ttl: number;

  constructor(
    private readonly d: OAuthDeps,
    private readonly providers: ProviderStore,
    private readonly conns: ConnectionStore,
    private readonly authorizeUrl: (p: ProviderRow, scopes: string[], state: string, verifier: string) => string,
    private readonly redirectUri: () => string,
  ) {
    this.#ttl = d.options?.flowTtlSeconds ?? defaults.flowTtlSeconds;
  }

  async #load(t: string): Promise<Loaded | FlowError> {
    const check = await this.d.links.verify<unknown>(START_PURPOSE, t);
    if (check.kind === 'expired')
      return fail(
        400,
        'This link has expired',
        'Connect links work for 10 minutes. Ask again with `/onbehalf connect <provider>`.',
      );
    if (check.kind !== 'ok') return fail(400, 'This link is not valid', 'The link was changed or is not one of ours.');
    const claims = startClaims.safeParse(check.claims);
    if (!claims.success) return fail(400, 'This link is not valid', 'The link was changed or is not one of ours.');
    const p = this.providers.get(claims.data.o, claims.data.p);
    const user = this.d.db
      .select()
      .from(users)
      .where(and(eq(users.id, claims.data.u), eq(users.orgId, claims.data.o)))
      .get();
    if (!p || !user) return fail(404, 'Unknown provider', 'The provider of this link no longer exists.');
    const pkce = providerExtra(p).pkceMethods;
    if (pkce && !pkce.includes('S256'))
      return fail(
        400,
        'Provider not supported',
        'This authorization server does not support PKCE S256, so onbehalf will not use it.',
      );
    // A row stored before the network guard, or since narrowed by the operator, is checked again here.
    if (!this.d.net.checkUrl(p.authorizeUrl).ok)
      return fail(
        400,
        'Provider not supported',
        'Its sign-in address is not a public https address; an admin must fix the provider.',
      );
    return { kind: 'loaded', jti: check.jti, expiresAt: check.expiresAt, claims: claims.data, p, user };
  }

  /** The CSRF field for a link: an HMAC of its jti under a key derived from the sealing keyring. */
  csrfFor(jti: string): string {
    return createHmac('sha256', this.d.keyring.derive('oauth-csrf')!.key).update(jti).digest('base64url');
  }

  #scopes(l: Loaded): string[] {
    const existing = l.claims.s?.length ? this.conns.find(l.claims.o, l.claims.u, l.p.id) : undefined;
    // Incremental consent: ask for the union of what the provider asks, what the grant has, and what is new.
    return [...new Set([...l.p.scopes, ...(existing?.scopes ?? []), ...(l.claims.s ?? [])])];
  }

  /** The platform whose sign-in proves this browser, if configured for one of the user's chat identities. */
  #signInPlatform(orgId: string, userId: string): string | null {
    const s = this.d.signIn;
    if (!s) return null;
    const mine = this.d.db
      .select()
      .from(linkedAccounts)
      .where(and(eq(linkedAccounts.orgId, orgId), eq(linkedAccounts.userId, userId)))
      .all();
    return mine.find((la) => s.has(la.platform))?.platform ?? null;
  }

  /** `GET /oauth/start`: the consent page. Reads only. */
  async page(t: string): Promise<ConsentPage> {
    const l = await this.#load(t);
    if (l.kind === 'error') return l;
    if (this.d.db.select().from(usedLinks).where(eq(usedLinks.jti, l.jti)).get()) {
      return fail(
        400,
        'This link was already used',
        'Each connect link works once. Ask again with `/onbehalf connect <provider>`.',
      );
    }
    const org = this.d.db.select().from(orgs).where(eq(orgs.id, l.claims.o)).get();
    const identities = this.d.db
      .select({ platform: linkedAccounts.platform, name: linkedAccounts.displayName, workspace: workspaces.name })
      .from(linkedAccounts)
      .leftJoin(
        workspaces,
        and(eq(workspaces.platform, linkedAccounts.platform), eq(workspaces.workspaceId, linkedAccounts.workspaceId)),
      )
      .where(and(eq(linkedAccounts.orgId, l.claims.o), eq(linkedAccounts.userId, l.claims.u)))
      .all();
    const signIn = this.#signInPlatform(l.claims.o, l.claims.u);
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
      scopes: this.#scopes(l),
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
      return fail(
        403,
        'Continue from the connect page',
        'This request did not come from the connect page. Open the connect link again and press Continue.',
      );
    }
    const now = Date.now();
    this.d.db.delete(usedLinks).where(lt(usedLinks.expiresAt, now)).run();
    const spent = this.d.db
      .insert(usedLinks)
      .values({ jti: l.jti, expiresAt: l.expiresAt })
      .onConflictDoNothing()
      .run();
    if (spent.changes !== 1)
      return fail(
        400,
        'This link was already used',
        'Each connect link works once. Ask again with `/onbehalf connect <provider>`.',
      );
    // One cookie per browser: a second flow in the same browser must not break the first.
    const b = browser && BROWSER.test(browser) ? browser : b64(32);
    const fields: StateFields = {
      orgId: l.claims.o,
      userId: l.claims.u,
      providerId: l.p.id,
      issuer: l.p.issuer,
      scopes: this.#scopes(l),
      resumeCallId: l.claims.r ?? null,
    };
    const platform = this.#signInPlatform(l.claims.o, l.claims.u);
    if (platform) {
      const { state, verifier } = this.newState(fields, `signin:${platform}`, hash(b));
      const url = await this.d.signIn!.authorizeUrl(
        platform,
        state,
        createHash('sha256').update(verifier).digest('base64url'),
        this.redirectUri(),
      );
      if (!url)
        return fail(
          502,
          'Sign-in unavailable',
          `${platform === 'slack' ? 'Slack' : 'Discord'} sign-in could not be reached. Try the connect link again in a minute.`,
        );
      return { kind: 'redirect', url, browser: b };
    }
    const { state, verifier } = this.newState(fields, 'connect', hash(b));
    return { kind: 'redirect', url: this.authorizeUrl(l.p, fields.scopes, state, verifier), browser: b };
  }

  /** Stores a fresh state (hash) and PKCE verifier (sealed) for one leg of the flow. */
  newState(f: StateFields, phase: string, browserHash: string): { state: string; verifier: string } {
    const state = b64(32);
    const verifier = b64(48);
    const id = newId();
    const now = Date.now();
    this.d.db
      .delete(oauthStates)
      .where(lt(oauthStates.expiresAt, now - 86_400_000))
      .run();
    this.d.db
      .insert(oauthStates)
      .values({
        id,
        ...f,
        stateHash: hash(state),
        browserHash,
        phase,
        codeVerifierSealed: this.d.keyring.seal(
          verifier,
          sealedTables.oauthStates.ctx(
            { id, orgId: f.orgId, userId: f.userId, providerId: f.providerId },
            'codeVerifierSealed',
          ),
        ),
        expiresAt: now + this.#ttl * 1000,
      })
      .run();
    return { state, verifier };
  }
}
