import type { Installation, InstallationQuery, InstallationStore } from '@slack/oauth';
import { and, eq } from 'drizzle-orm';
import { Secret, type Keyring } from '../../crypto/index.js';
import type { Store } from '../../db/index.js';
import type { workspaces } from '../../db/schema/index.js';
import { sealedTables } from '../../db/sealed.js';
import type { Identity } from '../../identity/index.js';

/** Where the bot token of a workspace comes from. */
export interface SlackTokens {
  /** The bot token for a team, or undefined when the app is not installed there. */
  botToken(teamId: string): Promise<Secret | undefined>;
}

/** Single-workspace mode (`SLACK_BOT_TOKEN`): one token, whatever the team. */
export class SingleWorkspaceToken implements SlackTokens {
  constructor(private readonly token: Secret) {}
  async botToken(): Promise<Secret | undefined> {
    return this.token;
  }
}

/** AAD of a bot token: the row, its platform and workspace id. */
const sealCtx = (row: Pick<typeof workspaces.$inferSelect, 'id' | 'platform' | 'workspaceId'>) =>
  sealedTables.workspaces.ctx(row, 'botTokenSealed');

/**
 * Multi-workspace mode: installations made through Slack's OAuth install flow, one org per
 * workspace, the bot token sealed in `workspaces.bot_token_sealed`. Also the InstallationStore
 * Bolt's InstallProvider writes to. Uninstall clears the token (the org and its data stay).
 */
export class InstalledWorkspaces implements SlackTokens, InstallationStore {
  constructor(
    private readonly store: Store,
    private readonly keyring: Keyring,
    private readonly identity: Identity,
  ) {}

  async #row(teamId: string) {
    const { workspaces } = this.store.t;
    return this.store.first(
      this.store.db
        .select()
        .from(workspaces)
        .where(and(eq(workspaces.platform, 'slack'), eq(workspaces.workspaceId, teamId))),
    );
  }

  async botToken(teamId: string): Promise<Secret | undefined> {
    const row = await this.#row(teamId);
    if (!row?.botTokenSealed) return undefined;
    return new Secret(this.keyring.open(row.botTokenSealed, sealCtx(row)));
  }

  /** Whether a team has a stored bot token. */
  async installed(teamId: string): Promise<boolean> {
    return Boolean((await this.#row(teamId))?.botTokenSealed);
  }

  async storeInstallation<V extends 'v1' | 'v2'>(installation: Installation<V, boolean>): Promise<void> {
    const teamId = installation.team?.id;
    const token = installation.bot?.token;
    // Org-wide (Enterprise Grid) installs are not supported: each workspace is one org.
    if (!teamId || !token) throw new Error('only workspace installs with a bot token are supported');
    await this.identity.orgFor('slack', teamId, installation.team?.name);
    const row = (await this.#row(teamId))!;
    const { workspaces } = this.store.t;
    await this.store.changes(
      this.store.db
        .update(workspaces)
        .set({ botTokenSealed: this.keyring.seal(token, sealCtx(row)), name: installation.team?.name ?? row.name })
        .where(eq(workspaces.id, row.id)),
    );
  }

  async fetchInstallation(query: InstallationQuery<boolean>): Promise<Installation<'v1' | 'v2', boolean>> {
    const teamId = query.teamId;
    const token = teamId ? await this.botToken(teamId) : undefined;
    if (!teamId || !token) throw new Error('no installation for this workspace');
    return {
      team: { id: teamId },
      enterprise: undefined,
      user: { id: '', token: undefined, scopes: undefined },
      bot: { token: token.reveal(), scopes: [], id: '', userId: '' },
    };
  }

  async deleteInstallation(query: InstallationQuery<boolean>): Promise<void> {
    if (query.teamId) await this.remove(query.teamId);
  }

  /** Forgets a workspace's bot token (`app_uninstalled`, `tokens_revoked`); returns whether one was stored. */
  async remove(teamId: string): Promise<boolean> {
    const { workspaces } = this.store.t;
    const where = and(eq(workspaces.platform, 'slack'), eq(workspaces.workspaceId, teamId));
    return (await this.store.changes(this.store.db.update(workspaces).set({ botTokenSealed: null }).where(where))) > 0;
  }
}
