import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAudienceServer, type AudienceServer } from '../support/audience-server.js';
import { world, type World } from '../support/world.js';
import { RecordingNotifier } from '../runner/harness.js';
import { runAs } from '../support/run-tool.js';

let w: World;
let alpha: AudienceServer;
let beta: AudienceServer;
const notes = new RecordingNotifier();
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

beforeAll(async () => {
  w = await world({
    platform: 'slack',
    users: ['alice', 'bob'],
    provider: 'idp',
    redis: false,
    shell: false,
    app: { runner: { notifier: notes } },
  });
  alpha = await startAudienceServer((t) => w.oauth.audienceOf(t));
  beta = await startAudienceServer((t) => w.oauth.audienceOf(t));
  for (const [name, s] of [
    ['alpha', alpha],
    ['beta', beta],
  ] as const) {
    expect((await w.app.policy.addServer(w.org.id, { name, transport: 'http', url: s.url })).ok).toBe(true);
    expect((await w.app.policy.rule(w.org.id, 'allow', name, { tools: '*' })).ok).toBe(true);
    const bound = await w.app.policy.bind(w.org.id, name, 'header', 'Authorization', 'exchange:idp', 'Bearer {token}');
    expect(bound.ok).toBe(true);
  }
  await w.connect('alice');
  await w.connect('bob');
});
afterAll(async () => {
  await w?.stop();
  await Promise.all([alpha?.stop(), beta?.stop()]);
});

/** Runs `server.whoami` as `who`; the first notice of the call. */
const run = (who: string, server: string) => runAs(w, notes, who, server);

describe('an exchange:<provider> binding', () => {
  it('gives each server a token exchanged for itself alone, and no server ever sees the caller’s own token', async () => {
    const aliceToken = await w.tokenOf('alice', 'idp');
    for (const [name, s] of [
      ['alpha', alpha],
      ['beta', beta],
    ] as const) {
      const said = await run('alice', name);
      expect(said.kind === 'outcome' && said.text).toContain(JSON.stringify({ audience: s.url }));
    }
    // The IdP saw one exchange per server, of Alice's own grant, naming that server as audience and resource.
    expect(w.oauth.exchanges.map((e) => [e.grantType, e.subject, e.audience, e.resource])).toEqual([
      [TOKEN_EXCHANGE, aliceToken, alpha.url, alpha.url],
      [TOKEN_EXCHANGE, aliceToken, beta.url, beta.url],
    ]);
    for (const s of [alpha, beta]) {
      expect(s.tokens.length).toBeGreaterThan(0);
      expect(s.tokens).not.toContain(aliceToken);
      expect(new Set(s.tokens.map((t) => w.oauth.audienceOf(t)))).toEqual(new Set([s.url]));
    }
    // Cached until it expires: a second call exchanges nothing more.
    const said = await run('alice', 'alpha');
    expect(said.kind === 'outcome' && said.text).toContain(alpha.url);
    expect(w.oauth.exchanges).toHaveLength(2);
  });

  it('an IdP policy denial reaches the caller as one line, with no prompt and nothing sent to the server', async () => {
    w.oauth.denyExchange = 'bob is not in the group that may use this app';
    const before = beta.tokens.length;
    const said = await run('bob', 'beta');
    w.oauth.denyExchange = undefined;
    expect(said.kind).toBe('outcome');
    const text = said.kind === 'outcome' ? said.text : '';
    expect(text.split('\n')).toHaveLength(1);
    expect(text).toContain('idp refused to exchange your sign-in for a token for beta');
    expect(text).toContain('access_denied: bob is not in the group that may use this app');
    expect(beta.tokens.length).toBe(before);
    // No fallback: no connect prompt, no shared credential, and the next allowed call exchanges anew.
    expect(notes.notices.some((n) => n.kind === 'connect')).toBe(false);
    const again = await run('bob', 'beta');
    expect(again.kind === 'outcome' && again.text).toContain(beta.url);
  });
});
