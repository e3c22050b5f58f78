import { expect } from 'vitest';
import { Secret } from '../../src/crypto/index.js';
import type { Platform } from '../../src/identity/identity.js';
import type { TestApp } from '../support/app.js';
import type { OAuthTestServer } from '../support/oauth-server.js';

export type Who = Record<string, { orgId: string; userId: string }>;

/** Resolves each `[name, platform user id]` in one workspace of Acme, as their first chat message would. */
export function resolvePeople(t: TestApp, platform: Platform, workspaceId: string, people: [string, string][]): Who {
  const who: Who = {};
  for (const [name, userId] of people) {
    const r = t.app.identity.resolve({ platform, workspaceId, userId, displayName: name, workspaceName: 'Acme' });
    who[name] = { orgId: r.org.id, userId: r.user.id };
  }
  return who;
}

/** The org's `github` provider, backed by the loopback OAuth server `vendor`. */
export async function addGithub(t: TestApp, orgId: string, vendor: OAuthTestServer): Promise<void> {
  const added = await t.app.oauth.addProvider(orgId, {
    slug: 'github',
    kind: 'oauth2',
    clientId: 'gh',
    clientSecret: new Secret('gh-secret'),
    scopes: ['repo'],
    issuer: vendor.issuer,
    ...vendor.endpoints,
  });
  expect(added.ok).toBe(true);
}
