import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oauthBed, type Bed } from './bed.js';

/** The `t` and the CSRF field of the button a manage link's page shows. */
async function opened(bed: Bed, link: string) {
  const t = new URL(link).searchParams.get('t')!;
  const page = await bed.oauth.me.peek(t);
  if (page.kind !== 'open') throw new Error(JSON.stringify(page));
  return { t, csrf: page.csrf };
}

describe('manage links: "Manage in browser"', () => {
  let bed: Bed;
  beforeAll(async () => {
    bed = await oauthBed();
    await bed.connect();
  });
  afterAll(async () => bed?.stop());

  it('ten concurrent opens of one link give exactly one session; the link then reads as used', async () => {
    const { t, csrf } = await opened(bed, await bed.oauth.manageLink(bed.org.id, bed.user.id));
    const outs = await Promise.all(Array.from({ length: 10 }, () => bed.oauth.me.open(t, csrf)));
    expect(outs.filter((o) => o.kind === 'session')).toHaveLength(1);
    expect(outs.filter((o) => o.kind === 'error' && o.problem.kind === 'link_used')).toHaveLength(9);
    expect(await bed.oauth.me.peek(t)).toMatchObject({ kind: 'error', problem: { kind: 'link_used' } });
  });

  it("a session is bound to the link's user and lists only their connections; a link's CSRF field does not open another link", async () => {
    const a = await opened(bed, await bed.oauth.manageLink(bed.org.id, bed.user.id));
    const b = await opened(bed, await bed.oauth.manageLink(bed.org.id, bed.user.id));
    expect(await bed.oauth.me.open(a.t, b.csrf)).toMatchObject({ kind: 'error', problem: { kind: 'not_from_page' } });
    expect(await bed.oauth.me.open(a.t, undefined)).toMatchObject({ kind: 'error', status: 403 });
    const out = await bed.oauth.me.open(a.t, a.csrf);
    if (out.kind !== 'session') throw new Error(JSON.stringify(out));
    const s = (await bed.oauth.me.session(out.token))!;
    expect(s).toMatchObject({ orgId: bed.org.id, userId: bed.user.id });
    expect(await bed.oauth.me.session(a.t)).toBeUndefined(); // a link is not a session
    const list = await bed.oauth.me.list(s.orgId, s.userId);
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ providerSlug: 'vendor', status: 'active', lastUsedAt: null });
    expect(JSON.stringify(list)).not.toMatch(/token/i);
  });
});
