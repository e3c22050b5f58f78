import type { AuditLog } from '../../audit/index.js';
import { identityKey, isExternalMember, type ChatIdentity, type Identity } from '../../identity/index.js';
import type { Logger } from '../../log.js';

/** Asks Slack about one user (`users.info`). */
export type UsersInfo = (
  teamId: string,
  userId: string,
) => Promise<{ user?: { is_admin?: boolean; is_owner?: boolean; is_primary_owner?: boolean } }>;

export interface WorkspaceAdminsOptions {
  /** How long one answer of `users.info` is trusted. Default 10 minutes. */
  cacheMs?: number;
}

/**
 * `SLACK_ADMINS_FROM_WORKSPACE=true`: workspace owners and admins (as `users.info` reports them,
 * never as message text claims) become admins in our role table, audited. Promotion only: an
 * admin made by `admin role` is not demoted when their Slack role changes. Answers are cached.
 */
export class WorkspaceAdmins {
  readonly #checked = new Map<string, number>();
  readonly #cacheMs: number;

  constructor(
    private readonly identity: Identity,
    private readonly audit: AuditLog,
    private readonly usersInfo: UsersInfo,
    private readonly log: Logger,
    opts: WorkspaceAdminsOptions = {},
  ) {
    this.#cacheMs = opts.cacheMs ?? 10 * 60_000;
  }

  /** Promotes the caller when Slack says they own or administer the workspace. Never throws. */
  async promote(chat: ChatIdentity): Promise<void> {
    // An external member's Slack role is about their own workspace, not this one; the core refuses them.
    if (isExternalMember(chat)) return;
    const key = identityKey(chat);
    const last = this.#checked.get(key);
    if (last !== undefined && Date.now() - last < this.#cacheMs) return;
    this.#checked.set(key, Date.now());
    try {
      const { org, user } = await this.identity.resolve(chat);
      if (user.role === 'admin') return;
      const info = await this.usersInfo(chat.workspaceId, chat.userId);
      if (!info.user?.is_admin && !info.user?.is_owner && !info.user?.is_primary_owner) return;
      await this.identity.setRole(org.id, user.id, 'admin');
      await this.audit.write({
        orgId: org.id,
        category: 'admin',
        action: 'role.set',
        actorUserId: user.id,
        onBehalfOfUserId: user.id,
        chatIdentity: key,
        decision: 'allowed',
        outcome: 'ok',
        detail: { role: 'admin', source: 'slack workspace owner/admin (users.info)' },
      });
    } catch (err) {
      this.#checked.delete(key);
      this.log.warn(
        { err: (err as Error).message, user: key },
        'could not ask Slack whether the caller is a workspace admin',
      );
    }
  }
}
