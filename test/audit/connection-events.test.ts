import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { world, type World } from '../support/world.js';

describe('connection events in the audit, as an admin reads them', () => {
  let w: World;
  beforeAll(async () => {
    w = await world({
      env: { ONBEHALF_ADMINS: 'shell:local:ada' },
      provider: 'vendor',
      users: ['ada', 'bob'],
    });
    const bob = await w.user('bob');
    await w.connect('bob', { login: 'bob-at-vendor' });
    // The vendor stops honouring bob's grant: the next refresh marks it for reconnecting.
    w.oauth.invalidGrantOnce = true;
    expect((await w.app.oauth.accessTokenFor(bob.orgId, bob.id, 'vendor', { forceRefresh: true })).kind).toBe(
      'needs_reauth',
    );
    expect(await w.as('bob').send('/onbehalf disconnect vendor')).toMatch(/vendor/);
  });
  afterAll(async () => {
    await w?.stop();
  });

  it('`admin audit` names the person and the vendor account of each connect, refresh failure and disconnect; never a user id', async () => {
    const bob = await w.user('bob');
    const out = await w.as('ada').send('/onbehalf admin audit --user @bob');
    const lines = out
      .replace(/^onbehalf \(only you\): /, '')
      .split('\n')
      .map((l) => l.trim());
    const at = '\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z';
    expect(lines).toEqual([
      expect.stringMatching(new RegExp(`^${at} bob connection\\.disconnect vendor account @bob-at-vendor revoked$`)),
      expect.stringMatching(
        new RegExp(`^${at} onbehalf connection\\.needs_reauth for bob vendor account @bob-at-vendor needs_reauth$`),
      ),
      expect.stringMatching(new RegExp(`^${at} bob connection\\.connect vendor account @bob-at-vendor connected$`)),
      // Held (an unproven browser) until bob confirmed it in chat.
      expect.stringMatching(new RegExp(`^${at} bob connection\\.connect vendor account @bob-at-vendor held$`)),
    ]);
    expect(out).not.toContain(bob.id);
  });

  it('`admin audit export` carries the names beside the ids', async () => {
    const bob = await w.user('bob');
    const reply = await w.as('ada').send('/onbehalf admin audit export');
    const file = reply.match(/to (\S+\.jsonl) on the server/)![1]!;
    const rows = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const reauth = rows.find((r) => r['action'] === 'needs_reauth')!;
    expect(reauth).toMatchObject({
      onBehalfOfUserId: bob.id,
      onBehalfOfName: 'bob',
      actorName: null,
      vendorAccount: '@bob-at-vendor',
    });
  });
});
