import { eq } from 'drizzle-orm';
import type { Secret } from '../crypto/index.js';
import { isSecretName } from '../names.js';
import { orgUser, type PolicyParts } from './parts.js';
import { changed, refused, type PolicyRefusal, type PolicyResult } from './results.js';
import type { SecretScope } from './secrets.js';

/** The id a secret of `scope` is stored under: the org, a team (name or id) or a user of the org. */
async function scopeId(
  p: PolicyParts,
  orgId: string,
  scope: SecretScope,
  owner: string,
): Promise<{ id: string } | PolicyRefusal> {
  if (scope === 'org') return { id: orgId };
  if (scope === 'team') {
    const t = await p.teams.find(orgId, owner);
    return t ? { id: t.id } : { kind: 'unknown_team', name: owner };
  }
  const u = await orgUser(p.store, orgId, owner);
  return u ? { id: u.id } : { kind: 'unknown_user' };
}

/** Stores a secret. `owner`: the org id, a team name or id, or a user id. */
export async function setSecret(
  p: PolicyParts,
  orgId: string,
  s: { scope: SecretScope; owner: string; name: string; value: Secret },
): Promise<PolicyResult> {
  const id = await scopeId(p, orgId, s.scope, s.owner);
  if ('kind' in id) return refused(id);
  if (!isSecretName(s.name)) return refused({ kind: 'bad_secret_name' });
  if (!(await p.secrets.set(orgId, s.scope, id.id, s.name, s.value)))
    return refused({ kind: 'unknown_team', name: s.owner }); // deleted meanwhile
  return changed({ kind: 'secret_stored', scope: s.scope, name: s.name });
}

/** Deletes a secret, or says there is none. */
export async function deleteSecret(p: PolicyParts, orgId: string, scope: SecretScope, owner: string, name: string) {
  const id = await scopeId(p, orgId, scope, owner);
  if ('kind' in id) return refused(id);
  return (await p.secrets.delete(orgId, scope, id.id, name))
    ? changed({ kind: 'secret_deleted', scope, name })
    : refused({ kind: 'no_secret', scope, name });
}

/** An org's secrets (names and owners, never values). */
export async function listSecrets(p: PolicyParts, orgId: string, scope?: SecretScope) {
  const { users } = p.store.t;
  const ownerOf = async (s: { scope: SecretScope; scopeId: string }) =>
    s.scope === 'team'
      ? ((await p.teams.find(orgId, s.scopeId))?.name ?? s.scopeId)
      : s.scope === 'user'
        ? ((await p.store.first(p.store.db.select().from(users).where(eq(users.id, s.scopeId))))?.displayName ??
          s.scopeId)
        : 'org';
  return Promise.all(
    (await p.secrets.list(orgId, scope)).map(async (s) => ({
      scope: s.scope,
      owner: await ownerOf(s),
      name: s.name,
      updatedAt: s.updatedAt,
    })),
  );
}
