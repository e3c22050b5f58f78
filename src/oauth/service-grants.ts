import type { Done } from '../errors.js';
import type { OAuthDeps } from './deps.js';
import type { ConnectFlow } from './flow.js';
import type { ProviderStore } from './providers.js';
import { runHook } from './hooks.js';
import { revokeAndDelete } from './revoke.js';
import { isServiceName } from '../names.js';
import { ServiceIdentities } from './services.js';
import type { ConnectionStore } from './store.js';
import type { TokenClient } from './tokenclient.js';
import type { TokenService } from './tokens.js';
import type { AccessTokenOptions, TokenResult } from './types.js';

/** One service grant as admins see it: no token. */
export interface ServiceGrantView {
  name: string;
  providerSlug: string;
  connectionId: string;
  status: 'active' | 'held' | 'needs_reauth' | 'revoked';
  vendorLogin: string | null;
  scopes: string[];
}

/** Why an admin's service-grant command was refused (`chat/` words it). */
export type ServiceGrantRefusal =
  | { kind: 'bad_name'; name: string }
  | { kind: 'not_found'; slug: string }
  | { kind: 'no_service_grant'; slug: string; name: string }
  | { kind: 'nothing_held'; slug: string; name: string };

/** What an admin's service-grant command did (`chat/` words it). */
export type ServiceGrantChange =
  | { kind: 'service_link'; slug: string; name: string; url: string }
  | { kind: 'service_disconnected'; slug: string; name: string; vendorLogin: string | null; revoked: boolean }
  | { kind: 'service_confirmed'; slug: string; name: string; vendorLogin: string | null };

export type ServiceGrantResult = Done<ServiceGrantChange, ServiceGrantRefusal>;

/**
 * Service grants: an org-level OAuth identity an admin connected once (`admin connect <provider>
 * --service <name>`), used by `service:<provider>/<name>` bindings for everyone the access rules
 * allow. The grant is owned by the service identity, so it is sealed, refreshed (single flight,
 * rotation-safe) and revoked by the same machinery as a person's grant. It is only ever asked for
 * by name: no lookup of a person's grant falls back to it.
 */
export class ServiceGrants {
  readonly #ids: ServiceIdentities;

  constructor(
    private readonly d: OAuthDeps,
    private readonly providers: ProviderStore,
    private readonly conns: ConnectionStore,
    private readonly client: TokenClient,
    private readonly tokens: TokenService,
    private readonly flow: ConnectFlow,
  ) {
    this.#ids = new ServiceIdentities(d);
  }

  /** A connect link for the admin alone: its grant is stored for service identity `name`. */
  async connectLink(orgId: string, adminUserId: string, slug: string, name: string): Promise<ServiceGrantResult> {
    if (!isServiceName(name)) return { ok: false, error: { kind: 'bad_name', name } };
    if (!(await this.providers.get(orgId, slug))) return { ok: false, error: { kind: 'not_found', slug } };
    const url = await this.flow.connectLink(orgId, adminUserId, slug, { service: name });
    return { ok: true, value: { kind: 'service_link', slug, name, url } };
  }

  /** A usable token of service grant `<slug>/<name>`, or why there is none (`missing`: never connected). */
  async accessTokenFor(orgId: string, slug: string, name: string, opts?: AccessTokenOptions): Promise<TokenResult> {
    const svc = await this.#ids.find(orgId, name);
    if (!svc) {
      const p = await this.providers.get(orgId, slug);
      return p
        ? { kind: 'missing', providerId: p.id, providerSlug: slug }
        : { kind: 'unknown_provider', providerSlug: slug };
    }
    return this.tokens.accessTokenFor(orgId, svc.id, slug, opts);
  }

  /** Every service grant of the org. */
  async list(orgId: string): Promise<ServiceGrantView[]> {
    const slugs = new Map((await this.providers.rowsOf(orgId)).map((p) => [p.id, p.slug]));
    const out: ServiceGrantView[] = [];
    for (const svc of await this.#ids.list(orgId))
      for (const c of await this.conns.listFor(orgId, svc.id)) {
        const providerSlug = slugs.get(c.providerId);
        if (providerSlug)
          out.push({
            name: svc.serviceName!,
            providerSlug,
            connectionId: c.id,
            status: c.status,
            vendorLogin: c.vendorLogin,
            scopes: c.scopes,
          });
      }
    return out.sort((a, b) => `${a.providerSlug}/${a.name}`.localeCompare(`${b.providerSlug}/${b.name}`));
  }

  /** Service grant `<slug>/<name>`: its provider, service identity and connection (each undefined when missing). */
  async #grant(orgId: string, slug: string, name: string) {
    const p = await this.providers.get(orgId, slug);
    const svc = p ? await this.#ids.find(orgId, name) : undefined;
    const row = p && svc ? await this.conns.find(orgId, svc.id, p.id) : undefined;
    return { p, svc, row };
  }

  /**
   * An admin confirms a held service grant (connected from a browser not shown to be theirs) is the
   * account they meant: it becomes usable. Any admin of the org may, as any may remove it.
   */
  async confirmHeld(orgId: string, adminUserId: string, slug: string, name: string): Promise<ServiceGrantResult> {
    const { p, svc, row } = await this.#grant(orgId, slug, name);
    if (!p) return { ok: false, error: { kind: 'not_found', slug } };
    if (!svc || !row || row.status !== 'held' || !(await this.conns.release(row.id)))
      return { ok: false, error: { kind: 'nothing_held', slug, name } };
    await this.d.audit.write({
      orgId,
      category: 'connection',
      action: 'connect',
      actorUserId: adminUserId,
      onBehalfOfUserId: svc.id,
      connectionIds: [row.id],
      vendorAccount: row.vendorLogin,
      outcome: 'connected',
      detail: { provider: p.slug, service: name, confirmedInChat: true },
    });
    await runHook(this.d.hooks, this.d.log, 'serviceGrantArrived', {
      orgId,
      userId: svc.id,
      serviceName: name,
      providerId: p.id,
      providerSlug: p.slug,
      connectionId: row.id,
      vendorLogin: row.vendorLogin,
    });
    return { ok: true, value: { kind: 'service_confirmed', slug, name, vendorLogin: row.vendorLogin } };
  }

  /** An admin says a held service grant is not the account they meant: revoked at the provider and removed. */
  rejectHeld(orgId: string, adminUserId: string, slug: string, name: string): Promise<ServiceGrantResult> {
    return this.disconnect(orgId, adminUserId, slug, name, { onlyHeld: true });
  }

  /**
   * Revokes service grant `<slug>/<name>` at the provider (best effort) and deletes it, audited as
   * the admin's act. `onlyHeld`: only while it waits for an admin's confirmation.
   */
  async disconnect(
    orgId: string,
    adminUserId: string,
    slug: string,
    name: string,
    opts: { onlyHeld?: boolean } = {},
  ): Promise<ServiceGrantResult> {
    const { p, svc, row } = await this.#grant(orgId, slug, name);
    if (!p) return { ok: false, error: { kind: 'not_found', slug } };
    if (opts.onlyHeld && row?.status !== 'held') return { ok: false, error: { kind: 'nothing_held', slug, name } };
    if (!svc || !row) return { ok: false, error: { kind: 'no_service_grant', slug, name } };
    const revoked = await revokeAndDelete(this.d, this.conns, this.client, p, row);
    await this.d.audit.write({
      orgId,
      category: 'connection',
      action: 'disconnect',
      actorUserId: adminUserId,
      onBehalfOfUserId: svc.id,
      connectionIds: [row.id],
      vendorAccount: row.vendorLogin,
      outcome: revoked ? 'revoked' : 'deleted_locally',
      detail: { provider: p.slug, service: name },
    });
    return {
      ok: true,
      value: { kind: 'service_disconnected', slug, name, vendorLogin: row.vendorLogin, revoked },
    };
  }
}
