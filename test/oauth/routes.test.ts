import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oauthBed, type Bed } from './bed.js';

describe('/oauth routes answer bad query strings with 400, never 500', () => {
  let bed: Bed;
  beforeAll(async () => {
    bed = await oauthBed();
  });
  afterAll(async () => bed?.stop());

  const cases: [string, string][] = [
    ['missing', ''],
    ['empty value', '?t='],
    ['oversized', `?t=${'a'.repeat(10_000)}`],
    ['non-UTF-8', '?t=%FF%FE&state=%C3%28'],
    ['broken escape', '?t=%E0%A4%A'],
    ['repeated', '?t=a&t=b&state=a&state=b'],
    ['garbage token', '?t=not.a.jwt'],
  ];
  for (const route of ['start', 'callback']) {
    for (const [name, q] of cases) {
      it(`${route}: ${name}`, async () => {
        const res = await fetch(`${bed.t.baseUrl}/oauth/${route}${q}`, { redirect: 'manual' });
        expect(res.status).toBe(400);
        expect(res.headers.get('cache-control')).toBe('no-store');
        expect(await res.text()).toContain('Nothing was changed');
      });
    }
  }

  it('nothing was stored by any of them', async () => {
    expect(await bed.states()).toEqual([]);
    expect(await bed.connection()).toBeUndefined();
    expect(bed.t.logs.lines.filter((l) => l.includes('"level":50'))).toEqual([]);
  });
});
