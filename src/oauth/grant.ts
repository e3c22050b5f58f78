import { eq } from 'drizzle-orm';
import { providerExtra } from '../db/schema/index.js';
import { redirectUriOf } from './authorize.js';
import type { OAuthDeps } from './deps.js';
import { runHook } from './hooks.js';
import { fail, type CallbackOutcome, type CallbackParams, type FlowError } from './pages.js';
import type { ProviderRow } from './providers.js';
import type { FlowStates, StateRow } from './states.js';
import type { ConnectionStore } from './store.js';
import { failureCode, type TokenClient, type TokenSet, type VendorIdentity } from './tokenclient.js';
import type { AuditDetail } from '../audit/index.js';

type Who = { orgId: string; userId: string; providerId: string; providerSlug: string };

/**
 * The provider leg's answer becomes a grant: the code is exchanged with the verifier and the
 * tokens stored sealed, held when the vendor account is new to the user and the browser was not
 * proven to be theirs; another person's vendor account is refused.
 */
export class GrantStep {
  constructor(
    private readonly d: OAuthDeps,
    private readonly conns: ConnectionStore,
    private readonly client: TokenClient,
    private readonly states: FlowStates,
  ) {}

  /** The callback of the provider leg, its state already claimed. */
  async finish(row: StateRow, q: CallbackParams): Promise<CallbackOutcome> {
    const s = this.d.store;
    const { oauthProviders, users, orgs } = s.t;
    const p = await s.first(s.db.select().from(oauthProviders).where(eq(oauthProviders.id, row.providerId)));
    if (!p) return fail(404, { kind: 'state_provider_gone' });
    // RFC 9207 §2.4: a response from another issuer is discarded without showing its error fields;
    // `iss` is compared as a plain string (no trimming of slashes, no URL normalisation).
    if (row.issuer && (q.iss !== undefined || providerExtra(p).issParameterSupported === true)) {
      if (q.iss !== row.issuer) {
        this.d.log.warn({ provider: p.slug }, 'callback from an unexpected issuer discarded');
        return fail(400, { kind: 'wrong_issuer' });
      }
    }
    const who: Who = { orgId: row.orgId, userId: row.userId, providerId: p.id, providerSlug: p.slug };
    if (q.error) return this.#providerError(row, p, q);
    if (!q.code) return fail(400, { kind: 'code_missing' });
    const verifier = this.states.verifier(row, 'connect');
    if (!verifier) return fail(400, { kind: 'verifier_mismatch' });
    const ex = await this.client.exchange(p, q.code, verifier, redirectUriOf(this.d.publicUrl));
    if (ex.kind !== 'ok') {
      const failure = failureCode(ex);
      await this.#auditFailed(row, p, { failure });
      this.d.log.warn({ provider: p.slug, failure }, 'code exchange failed');
      return fail(502, { kind: 'exchange_failed', provider: p.displayName, outcome: ex });
    }
    const identity = await this.client.identity(p, ex.tokens);
    const user = await s.first(s.db.select().from(users).where(eq(users.id, row.userId)));
    const org = await s.first(s.db.select().from(orgs).where(eq(orgs.id, row.orgId)));
    const names = { userName: user?.displayName ?? 'you', org: org ? org.name : null };
    // A service grant serves the org by design: the one-person-per-vendor-account rule is for people's grants.
    if (row.serviceUserId) return this.#storeService(row, p, row.serviceUserId, ex.tokens, identity, names);
    // One vendor account, one person: unless an admin allowed sharing, another user's account is refused.
    const owner =
      providerExtra(p).shareVendorAccounts === true
        ? undefined
        : await this.conns.ownerOfVendorAccount(row.orgId, p.id, identity, row.userId);
    if (owner) return this.#refuseTaken(row, p, who, identity, owner.userId, names);
    return this.#store(row, p, who, ex.tokens, identity, names);
  }

  async #auditFailed(row: StateRow, p: ProviderRow, detail: AuditDetail): Promise<void> {
    await this.d.audit.write({
      orgId: row.orgId,
      category: 'connection',
      action: 'connect',
      onBehalfOfUserId: row.userId,
      outcome: 'failed',
      detail: { provider: p.slug, ...detail },
    });
  }

  /** The provider answered with an error (the person declined, or something else). */
  async #providerError(row: StateRow, p: ProviderRow, q: CallbackParams): Promise<FlowError> {
    const code = q.error!.replace(/[^a-z0-9_]/gi, '').slice(0, 64);
    await this.#auditFailed(row, p, { error: code });
    return code === 'access_denied'
      ? fail(400, { kind: 'declined', provider: p.displayName })
      : fail(400, { kind: 'provider_error', provider: p.displayName, code, description: q.error_description });
  }

  /** The vendor account is already connected for another person: refused, and both told in chat. */
  async #refuseTaken(
    row: StateRow,
    p: ProviderRow,
    who: Who,
    identity: VendorIdentity,
    ownerUserId: string,
    names: { userName: string; org: string | null },
  ): Promise<FlowError> {
    this.d.metrics?.oauthEvents.inc({ event: 'connect', result: 'refused' });
    await this.d.audit.write({
      orgId: row.orgId,
      category: 'connection',
      action: 'connect',
      onBehalfOfUserId: row.userId,
      vendorAccount: identity.login,
      decision: 'denied',
      outcome: 'vendor_account_taken',
      detail: { provider: p.slug, connectedFor: ownerUserId },
    });
    await runHook(this.d.hooks, this.d.log, 'grantRefused', { ...who, vendorLogin: identity.login, ownerUserId });
    const s = this.d.store;
    const owner = await s.first(s.db.select().from(s.t.users).where(eq(s.t.users.id, ownerUserId)));
    const ownerName = owner?.displayName ?? null;
    return fail(409, {
      kind: 'vendor_account_taken',
      provider: p.displayName,
      login: identity.login,
      ownerName,
      ...names,
    });
  }

  /** Stores the grant (held unless the browser was proven or the vendor account is known) and announces it. */
  async #store(
    row: StateRow,
    p: ProviderRow,
    who: Who,
    tokens: TokenSet,
    identity: VendorIdentity,
    names: { userName: string; org: string | null },
  ): Promise<CallbackOutcome> {
    const verified = row.phase === 'connect+signed_in';
    const previous = await this.conns.find(row.orgId, row.userId, p.id);
    const known = previous !== undefined && previous.status !== 'held' && sameVendorAccount(previous, identity);
    const held = !verified && !known;
    const status = held ? 'held' : 'active';
    const conn = await this.conns.saveGrant(
      row.orgId,
      row.userId,
      p.id,
      tokens,
      tokens.scopes ?? row.scopes,
      identity,
      status,
    );
    this.d.metrics?.oauthEvents.inc({ event: 'connect', result: held ? 'held' : 'ok' });
    await this.d.audit.write({
      orgId: row.orgId,
      category: 'connection',
      action: 'connect',
      actorUserId: row.userId,
      onBehalfOfUserId: row.userId,
      connectionIds: [conn.id],
      vendorAccount: identity.login,
      outcome: held ? 'held' : 'connected',
      detail: { provider: p.slug, scopes: conn.scopes, signedIn: verified },
    });
    this.d.log.info(
      { provider: p.slug, connectionId: conn.id, userId: row.userId, held },
      held ? 'account connected, held until the user confirms' : 'account connected',
    );
    const e = {
      ...who,
      connectionId: conn.id,
      vendorLogin: identity.login,
      resumeCallId: row.resumeCallId ?? undefined,
    };
    await runHook(this.d.hooks, this.d.log, held ? 'grantHeld' : 'grantArrived', e);
    const { userName, org } = names;
    return {
      kind: 'connected',
      held,
      provider: p.displayName,
      providerSlug: p.slug,
      vendorLogin: identity.login,
      userName,
      orgName: org ?? '',
      service: null,
    };
  }

  /**
   * An admin's service connect: stored for the org's service identity, the admin told. As with a
   * person's own grant, a browser not shown to be the admin's (a forwarded link) with a vendor
   * account new to that service leaves it held: unused until the admin confirms it in chat.
   */
  async #storeService(
    row: StateRow,
    p: ProviderRow,
    serviceUserId: string,
    tokens: TokenSet,
    identity: VendorIdentity,
    names: { userName: string; org: string | null },
  ): Promise<CallbackOutcome> {
    const s = this.d.store;
    const u = s.t.users;
    const svc = await s.first(s.db.select().from(u).where(eq(u.id, serviceUserId)));
    if (!svc?.serviceName || svc.orgId !== row.orgId) return fail(404, { kind: 'state_provider_gone' });
    const scopes = tokens.scopes ?? row.scopes;
    const previous = await this.conns.find(row.orgId, svc.id, p.id);
    const known = previous !== undefined && previous.status !== 'held' && sameVendorAccount(previous, identity);
    const held = row.phase !== 'connect+signed_in' && !known;
    const status = held ? 'held' : 'active';
    const conn = await this.conns.saveGrant(row.orgId, svc.id, p.id, tokens, scopes, identity, status);
    this.d.metrics?.oauthEvents.inc({ event: 'connect', result: held ? 'service_held' : 'service' });
    await this.d.audit.write({
      orgId: row.orgId,
      category: 'connection',
      action: 'connect',
      actorUserId: row.userId,
      onBehalfOfUserId: svc.id,
      connectionIds: [conn.id],
      vendorAccount: identity.login,
      outcome: held ? 'held' : 'connected',
      detail: { provider: p.slug, service: svc.serviceName, scopes: conn.scopes },
    });
    this.d.log.info(
      { provider: p.slug, connectionId: conn.id, service: svc.serviceName, held },
      held ? 'service grant connected, held until the admin confirms' : 'service grant connected',
    );
    await runHook(this.d.hooks, this.d.log, 'serviceGrantArrived', {
      orgId: row.orgId,
      userId: svc.id,
      serviceName: svc.serviceName,
      providerId: p.id,
      providerSlug: p.slug,
      connectionId: conn.id,
      vendorLogin: identity.login,
      adminUserId: row.userId,
      held,
    });
    return {
      kind: 'connected',
      held,
      provider: p.displayName,
      providerSlug: p.slug,
      vendorLogin: identity.login,
      userName: names.userName,
      orgName: names.org ?? '',
      service: svc.serviceName,
    };
  }
}

/** Whether a stored grant acts as the same vendor account (by id, else login; unknown on both sides counts as the same). */
export function sameVendorAccount(
  row: { vendorAccountId: string | null; vendorLogin: string | null },
  who: VendorIdentity,
): boolean {
  if (row.vendorAccountId && who.id) return row.vendorAccountId === who.id;
  if (row.vendorLogin && who.login) return row.vendorLogin === who.login;
  return !who.id && !who.login;
}
