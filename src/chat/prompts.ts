import { and, eq } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import { orgs, toolCalls, users } from '../db/schema.js';
import type { Identity } from '../identity/index.js';
import type { Logger } from '../log.js';
import type { OutboundRouter } from './outbound.js';
import { replyTargetSchema, type OutMessage, type ReplyTarget } from './types.js';

/** Why a call waits for the caller's grant. */
export type ConnectReason = 'missing' | 'needs_reauth' | 'insufficient_scope';

/** The prompt only the caller sees when a call is parked for their grant. */
export function connectPrompt(server: string, tool: string, providerSlug: string, reason: ConnectReason, url: string): OutMessage {
  const why = {
    missing: `needs your ${providerSlug} account, which you have not connected yet`,
    needs_reauth: `needs your ${providerSlug} account, and your connection has expired or was revoked`,
    insufficient_scope: `needs more ${providerSlug} permissions than you granted`,
  }[reason];
  return {
    text: `\`${server}.${tool}\` ${why}. Connect it with the button (only you can see this; the link works once, for 10 minutes). The call continues by itself once you are connected.`,
    link: { label: reason === 'missing' ? `Connect ${providerSlug}` : `Reconnect ${providerSlug}`, url },
  };
}

/** "GitHub @bob is now connected for Alice in Acme", with how to undo it. */
export function connectedMessage(providerSlug: string, vendorLogin: string | null, userName: string, orgName: string): OutMessage {
  return {
    text: `${providerSlug} account ${vendorLogin ?? '(unknown login)'} is now connected for ${userName} in ${orgName}. Calls you make will use it. Not you, or a mistake? \`/onbehalf disconnect ${providerSlug}\` undoes it.`,
  };
}

/**
 * Tells the chat user which vendor account was attached: privately where their parked calls
 * wait, else by direct message on each platform they are linked on.
 */
export class ConnectionAnnouncer {
  constructor(
    private readonly db: Db,
    private readonly identity: Identity,
    private readonly outbound: OutboundRouter,
    private readonly log: Logger,
  ) {}

  async connected(e: { orgId: string; userId: string; providerId: string; providerSlug: string; vendorLogin: string | null }): Promise<void> {
    const user = this.identity.user(e.orgId, e.userId);
    const org = this.db.select().from(orgs).where(eq(orgs.id, e.orgId)).get();
    if (!user || !org) return;
    const msg = connectedMessage(e.providerSlug, e.vendorLogin, user.displayName, org.name);
    const targets = this.#parkedTargets(e.orgId, e.userId, e.providerId);
    try {
      if (targets.length) {
        for (const t of targets) await this.outbound.replyPrivately(t, msg);
        return;
      }
      for (const la of this.identity.linkedIdentities(e.orgId, e.userId)) {
        if (this.outbound.has(la.platform)) await this.outbound.directOn(la.platform, la.workspaceId, la.platformUserId, msg);
      }
    } catch (err) {
      this.log.warn({ err: (err as Error).message, user: e.userId }, 'could not post the connection confirmation');
    }
  }

  /** Distinct reply targets of this user's calls parked for this provider. */
  #parkedTargets(orgId: string, userId: string, providerId: string): ReplyTarget[] {
    const rows = this.db
      .select({ target: toolCalls.replyTarget })
      .from(toolCalls)
      .innerJoin(users, eq(users.id, toolCalls.userId))
      .where(and(eq(toolCalls.orgId, orgId), eq(toolCalls.userId, userId), eq(toolCalls.status, 'parked'), eq(toolCalls.parkedProviderId, providerId)))
      .all();
    const seen = new Map<string, ReplyTarget>();
    for (const r of rows) {
      const t = replyTargetSchema.safeParse(r.target);
      if (t.success) seen.set(`${t.data.platform}:${t.data.channelId}:${t.data.threadId ?? ''}:${t.data.userId}`, t.data);
    }
    return [...seen.values()];
  }
}
