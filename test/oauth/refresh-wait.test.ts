import { describe, expect, it } from 'vitest';
import { withDefaults, type OAuthOptions } from '../../src/oauth/deps.js';

/**
 * A caller that finds another process refreshing its grant waits for that refresh. If it gives up
 * first, the person sees "try again" while the refresh is still on its way to succeeding. The holder's
 * worst case is every attempt at the token endpoint timing out, with the backoffs between them.
 */
function holderWorstCaseMs(o: Required<OAuthOptions>): number {
  let total = 0;
  for (let attempt = 0; attempt < o.refreshAttempts; attempt++) {
    if (attempt > 0) total += o.backoffMs * 2 ** (attempt - 1);
    total += o.httpTimeoutMs;
  }
  return total;
}

describe('how long a waiter waits for another refresh', () => {
  const configs: [string, OAuthOptions][] = [
    ['the defaults', {}],
    ['a slower token endpoint', { httpTimeoutMs: 25_000 }],
    ['more attempts', { refreshAttempts: 5, backoffMs: 1000 }],
    ['a short lock life', { lockTtlMs: 2_000, httpTimeoutMs: 500, refreshAttempts: 2 }],
  ];
  for (const [name, options] of configs) {
    it(`outlasts the holder's worst case with ${name}`, () => {
      const o = withDefaults(options);
      expect(o.lockWaitMs).toBeGreaterThan(holderWorstCaseMs(o));
      // and a crashed holder's lock expires before the waiter gives up, so it can take over
      expect(o.lockWaitMs).toBeGreaterThan(o.lockTtlMs);
    });
  }

  it('keeps a wait the operator set', () => {
    expect(withDefaults({ lockWaitMs: 5_000 }).lockWaitMs).toBe(5_000);
  });
});
