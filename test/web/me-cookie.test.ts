import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { meRouter } from '../../src/web/index.js';
import { oauthBed, type Bed } from '../oauth/bed.js';

describe('the /me session cookie', () => {
  let bed: Bed;
  beforeAll(async () => {
    bed = await oauthBed();
  });
  afterAll(async () => bed?.stop());

  it('behind an https PUBLIC_URL it is Secure, HttpOnly, SameSite=Strict, path /me, and lives 15 minutes', async () => {
    const router = meRouter(bed.oauth, { publicUrl: 'https://onbehalf.example' });
    const link = new URL(await bed.oauth.manageLink(bed.org.id, bed.user.id));
    const page = await router.request(`/${link.search}`);
    const html = await page.text();
    const field = (name: string) => html.match(new RegExp(`name="${name}" value="([^"]+)"`))![1]!;
    const res = await router.request('/open', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
      body: new URLSearchParams({ t: field('t'), csrf: field('csrf') }).toString(),
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/me');
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^onbehalf_me=[^;]+; Max-Age=900; Path=\/me; HttpOnly; Secure; SameSite=Strict$/);
  });
});
