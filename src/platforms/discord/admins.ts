import { PermissionFlagsBits, type PermissionsBitField } from 'discord.js';
import type { AuditLog } from '../../audit/index.js';
import { identityKey, type ChatIdentity, type Identity } from '../../identity/index.js';

/**
 * `DISCORD_ADMINS_FROM_GUILD=true`: members whose guild permissions include Administrator or
 * Manage Guild become admins in our role table (audited). Permissions come from Discord's own
 * payload (the interaction's member permissions), never from message text. Promotion only: an
 * admin made by `admin role` is not demoted when their Discord permissions change.
 */
export class GuildAdmins {
  constructor(
    private readonly identity: Identity,
    private readonly audit: AuditLog,
  ) {}

  /** Makes the caller an admin when `permissions` grant Administrator or Manage Guild; returns whether they are one now. */
  async promote(chat: ChatIdentity, permissions: Readonly<PermissionsBitField> | null | undefined): Promise<boolean> {
    if (!permissions || !permissions.any([PermissionFlagsBits.Administrator, PermissionFlagsBits.ManageGuild], false))
      return false;
    const { org, user } = await this.identity.resolve(chat);
    if (user.role === 'admin') return true;
    await this.identity.setRole(org.id, user.id, 'admin');
    await this.audit.write({
      orgId: org.id,
      category: 'admin',
      action: 'role.set',
      actorUserId: user.id,
      onBehalfOfUserId: user.id,
      chatIdentity: identityKey(chat),
      decision: 'allowed',
      outcome: 'ok',
      detail: { role: 'admin', source: 'discord guild permission (Administrator or Manage Guild)' },
    });
    return true;
  }
}
