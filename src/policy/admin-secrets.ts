import { eq } from 'drizzle-orm';
import type { Secret } from '../crypto/index.js';
import { users } from '../db/schema/index.js';
import { isSecretName } from '../names.js';
import { orgUser, type PolicyParts } from './parts.js';
import { changed, refused, type PolicyRefusal, type PolicyResult } from './results.js';
import type { SecretScope } from './secrets.js';

/** The id a secret of `scope` is stored under: the org, a team (name or id) or a user of the org. */
function scopeId(p: PolicyParts, orgId: string, scope: SecretScope, owner: string): { id: string } | PolicyRefusal {
  if (scope === 'org') return { id: orgId };
  if (scope === 'team') {
    const t = p.teams.find(orgId, owner);
    return t ? { id: t.id } : { kind: 'unknown_team', name: owner };
  }
  const u = orgUser(p.db, orgId, owner);
  return u ? { id: u.id } : { kind: 'unknown_user' };
}

/** Stores a secret. `owner`: the org id, a team name or id, or a user id. */
export function setSecret(
  p: PolicyParts,
  orgId: string,
  s: { scope: SecretScope; owner: string; name: string; value: Secret },
): PolicyResult {
  const id = scopeId(p, orgId, s.scope, s.owner);
  if ('kind' in id) return refused(id);
  if (!isSecretName(s.name)) return refused({ kind: 'bad_secret_name' });
  p.secrets.set(orgId, s.scope, id.id, s.name, s.value);
  return changed({ kind: 'secret_stored', scope: s.scope, name: s.name });
}

/** Deletes a secret, or says there is none. */
export function deleteSecret(p: PolicyParts, orgId: string, scope: SecretScope, owner: string, name: string) {
  const id = scopeId(p, orgId, scope, owner);
  if ('kind' in id) return refused(id);
  return p.secrets.delete(orgId, scope, id.id, name)
    ? changed({ kind: 'secret_deleted', scope, name })
    : refused({ kind: 'no_secret', scope, name });
}

/** An org's secrets (names and owners, never values). */
export function listSecrets(p: PolicyParts, orgId: string, scope?: SecretScope) {
  return p.secrets.list(orgId, scope).map((s) => ({
    scope: s.scope,
    owner:
      s.scope === 'team'
        ? (p.teams.find(orgId, s.scopeId)?.name ?? s.scopeId)
        : s.scope === 'user'
          ? (p.db.select().from(users).where(eq(users.id, s.scopeId)).get()?.displayName ?? s.scopeId)
          : 'org',
    name: s.name,
    updatedAt: s.updatedAt,
  }));
}
