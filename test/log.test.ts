import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/log.js';
import { Secret } from '../src/crypto/index.js';
import { LogCapture } from './support/logs.js';
import { startTestApp } from './support/app.js';
import { testKey } from './support/env.js';

describe('logs', () => {
  it('redact sensitive fields at any of the first levels of nesting, and Secret values', () => {
    const logs = new LogCapture();
    const log = createLogger('info', logs);
    log.info(
      { token: 'canary-1', user: { accessToken: 'canary-2' }, req: { headers: { authorization: 'Bearer canary-3' } } },
      'a',
    );
    log.info(
      { a: { b: { client_secret: 'canary-4', refresh_token: 'canary-5' } }, password: 'canary-6', code: 'canary-7' },
      'b',
    );
    log.info({ wrapped: new Secret('canary-8'), nested: { s: new Secret('canary-9') } }, 'c');
    log.child({ reqId: 'r1' }).info({ apiKey: 'canary-10' }, 'd');
    expect(logs.lines).toHaveLength(4);
    const leaked = Array.from({ length: 10 }, (_, i) => `canary-${i + 1}`).filter((c) => logs.text().includes(c));
    expect(leaked).toEqual([]);
    expect(logs.text()).toContain('[redacted]');
    expect(JSON.parse(logs.lines[3]!).reqId).toBe('r1');
  });

  it('a whole app run never writes the sealing key or the values it sealed', async () => {
    const key = testKey('k9');
    const t = await startTestApp({ ONBEHALF_KEYS: key, SLACK_SIGNING_SECRET: 'slack-signing-canary' });
    try {
      const sealed = t.app.keyring.seal('sealed-value-canary', {
        table: 'secrets',
        column: 'value_sealed',
        rowId: 'x',
        owner: {},
      });
      t.app.log.info({ sealed }, 'sealed a value');
      await fetch(`${t.baseUrl}/readyz`);
      await fetch(`${t.baseUrl}/nope?code=oauth-code-canary`);
    } finally {
      await t.stop();
    }
    expect(t.logs.lines.length).toBeGreaterThan(2);
    expect(t.logs.containing(key.slice(3), 'sealed-value-canary', 'slack-signing-canary', 'oauth-code-canary')).toEqual(
      [],
    );
  });
});
