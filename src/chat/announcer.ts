import { and, eq, isNull } from 'drizzle-orm';
import type { Store } from '../db/index.js';
import type { Identity } from '../identity/index.js';
import type { ReplyTarget } from '../identity/reply.js';
import type { Logger } from '../log.js';
import type { WaitingCall } from '../runner/index.js';
import type {
  ConnectionResult,
  GrantArrived,
  GrantExpired,
  GrantHeld,
  GrantRefused,
  ServiceGrantEvent,
  SignInMismatch,
} from '../oauth/index.js';
import type { OutboundRouter } from './outbound.js';
import {
  browserDisconnectMessage,
  connectedMessage,
  expiredMessage,
  heldMessage,
  refusedForAccountOwner,
  refusedForLinkOwner,
  serviceConnectedMessage,
  serviceHeldMessage,
  serviceDeadMessage,
  signInMismatchMessage,
} from './prompts.js';
import type { OutMessage } from './types.js';

/** The calls waiting for a grant, and where each waits (the runner's `waitingFor`). */
export type WaitingFor = (e: {
  orgId: string;
  userId: string;
  providerId: string;
  resumeCallId?: string | undefined;
}) => Promise<WaitingCall[]>;

/** Where a user last asked for a tool call (the runner's `lastSeen`). */
export type LastSeen = (orgId: string, userId: string) => Promise<ReplyTarget | undefined>;

/** Each conversation once (several calls may wait in one thread). */
function distinctTargets(calls: WaitingCall[]): ReplyTarget[] {
  const seen = new Map<string, ReplyTarget>();
  for (const { target: t } of calls) seen.set(`${t.platform}:${t.channelId}:${t.threadId ?? ''}:${t.userId}`, t);
  return [...seen.values()];
}

/**
 * Tells the chat user which vendor account was attached: privately where their parked calls
 * wait, else by direct message on each platform they are linked on.
 */
export class ConnectionAnnouncer {
  constructor(
    private readonly store: Store,
    private readonly identity: Identity,
    private readonly outbound: OutboundRouter,
    private readonly waiting: WaitingFor,
    private readonly log: Logger,
    private readonly lastSeen: LastSeen = async () => undefined,
  ) {}

  /** The user and org names a message addresses, or undefined when either is gone. */
  async #names(orgId: string, userId: string): Promise<{ user: string; org: string } | undefined> {
    const user = await this.identity.user(orgId, userId);
    const { orgs } = this.store.t;
    const org = await this.store.first(this.store.db.select({ name: orgs.name }).from(orgs).where(eq(orgs.id, orgId)));
    return user && org ? { user: user.displayName, org: org.name } : undefined;
  }

  /** "vendor account bob is now connected for Alice in Acme", where `waiting` calls wait (default: those waiting for it). */
  async connected(e: GrantArrived, waiting?: WaitingCall[]): Promise<void> {
    const n = await this.#names(e.orgId, e.userId);
    if (n) await this.#tell(e, connectedMessage(e.providerSlug, e.vendorLogin, n.user, n.org), { waiting });
  }

  /** Asks the user, privately, whether a held grant is theirs. */
  async held(e: GrantHeld): Promise<void> {
    const n = await this.#names(e.orgId, e.userId);
    if (n) await this.#tell(e, heldMessage(e.providerSlug, e.vendorLogin, n.user, n.org));
  }

  /** Tells both people privately that a vendor account already serving one of them was refused for the other. */
  async refused(e: GrantRefused): Promise<void> {
    const linkOwner = await this.identity.user(e.orgId, e.userId);
    const accountOwner = await this.identity.user(e.orgId, e.ownerUserId);
    if (!linkOwner || !accountOwner) return;
    await this.#tell(e, refusedForLinkOwner(e.providerSlug, e.vendorLogin, accountOwner.displayName));
    await this.#tell(
      { ...e, userId: e.ownerUserId },
      refusedForAccountOwner(e.providerSlug, e.vendorLogin, linkOwner.displayName),
      { direct: true },
    );
  }

  /** Tells the link's owner privately that someone else's chat sign-in opened their link. */
  async signInMismatch(e: SignInMismatch): Promise<void> {
    await this.#tell(e, signInMismatchMessage(e.providerSlug, e.platform, e.signedInAs));
  }

  /** Tells the owner privately where they last asked for a tool (else by direct message) that their idle grant expired at the provider, before a call of theirs fails. */
  async expired(e: GrantExpired): Promise<void> {
    const seen = await this.lastSeen(e.orgId, e.userId);
    const msg = expiredMessage(e.providerSlug, e.vendorLogin);
    if (seen && this.outbound.has(seen.platform)) {
      try {
        return await this.outbound.replyPrivately(seen, msg);
      } catch (err) {
        this.log.warn({ err: (err as Error).message, user: e.userId }, 'could not post where the user was last seen');
      }
    }
    await this.#tell(e, msg, { direct: true });
  }

  /** Tells the user by direct message on each platform they are linked on what their browser's Disconnect did. */
  async disconnectedInBrowser(orgId: string, userId: string, r: ConnectionResult): Promise<void> {
    if (r.ok) await this.#tell({ orgId, userId, providerId: '' }, browserDisconnectMessage(r), { direct: true });
  }

  /** Tells the admin who connected a service grant, by direct message, which vendor account it acts as. */
  async serviceConnected(e: ServiceGrantEvent): Promise<void> {
    if (!e.adminUserId) return;
    const msg = (e.held ? serviceHeldMessage : serviceConnectedMessage)(e.providerSlug, e.serviceName, e.vendorLogin);
    await this.#tell({ ...e, userId: e.adminUserId }, msg, { direct: true });
  }

  /** Tells every admin of the org, by direct message (never a caller's conversation), that a service grant died. */
  async serviceDead(e: ServiceGrantEvent): Promise<void> {
    const { users } = this.store.t;
    const admins = await this.store.rows(
      this.store.db
        .select({ id: users.id })
        .from(users)
        .where(and(eq(users.orgId, e.orgId), eq(users.role, 'admin'), isNull(users.serviceName))),
    );
    const msg = serviceDeadMessage(e.providerSlug, e.serviceName, e.vendorLogin);
    for (const a of admins) await this.#tell({ ...e, userId: a.id }, msg, { direct: true });
  }

  /** Privately where the user's parked calls for this provider wait, else by direct message on each linked platform. */
  async #tell(
    e: Parameters<WaitingFor>[0],
    msg: OutMessage,
    opts: { direct?: boolean; waiting?: WaitingCall[] | undefined } = {},
  ): Promise<void> {
    try {
      const targets = opts.direct ? [] : distinctTargets(opts.waiting ?? (await this.waiting(e)));
      if (targets.length) {
        for (const t of targets) await this.outbound.replyPrivately(t, msg);
        return;
      }
      for (const la of await this.identity.linkedIdentities(e.orgId, e.userId)) {
        if (this.outbound.has(la.platform))
          await this.outbound.directOn(la.platform, la.workspaceId, la.platformUserId, msg);
      }
    } catch (err) {
      this.log.warn({ err: (err as Error).message, user: e.userId }, 'could not post the connection confirmation');
    }
  }
}
