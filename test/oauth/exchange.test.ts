import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '../../src/crypto/index.js';
import { startAudienceServer, type AudienceServer } from '../support/audience-server.js';
import { MachineAuthServer } from '../support/machine-as.js';
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
let as: MachineAuthServer;
let gamma: AudienceServer;
afterAll(async () => {
  await w?.stop();
  await Promise.all([alpha?.stop(), beta?.stop(), as?.stop(), gamma?.stop()]);
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

  it('where the server’s authorization server takes an ID-JAG, the ID token becomes one at the IdP and is presented there', async () => {
    as = await MachineAuthServer.start({ 'onbehalf-at-gamma': { secret: 'gamma-secret' } });
    as.verifyJag = (jag) => w.oauth.exchangeOf(jag);
    gamma = await startAudienceServer((t) => as.audienceOf(t), as.issuer);
    const org = w.org.id;
    expect((await w.app.policy.addServer(org, { name: 'gamma', transport: 'http', url: gamma.url })).ok).toBe(true);
    expect((await w.app.policy.rule(org, 'allow', 'gamma', { tools: '*' })).ok).toBe(true);
    expect(
      (await w.app.policy.bind(org, 'gamma', 'header', 'Authorization', 'exchange:idp', 'Bearer {token}')).ok,
    ).toBe(true);
    const server = (await w.app.policy.server(org, 'gamma'))!;
    const set = await w.app.oauth.preRegisterMcpClient(
      org,
      { serverId: server.id, serverName: 'gamma' },
      'onbehalf-at-gamma',
    );
    expect(set.ok && (await w.app.oauth.setClientSecret(org, 'mcp-gamma', new Secret('gamma-secret'))).ok).toBe(true);
    const before = w.oauth.exchanges.length;
    const said = await run('alice', 'gamma');
    expect(said.kind === 'outcome' && said.text).toContain(JSON.stringify({ audience: gamma.url }));
    const jag = w.oauth.exchanges.slice(before);
    expect(jag.map((e) => [e.grantType, e.audience, e.resource, e.issued.startsWith('jag-')])).toEqual([
      [TOKEN_EXCHANGE, as.issuer, gamma.url, true],
    ]);
    // The subject was Alice's ID token, not her access token; the server's issuer saw the JWT bearer grant.
    expect(jag[0]!.subject).not.toBe(await w.tokenOf('alice', 'idp'));
    expect(as.requests.map((r) => [r.grant, r.clientId, r.error])).toEqual([
      ['urn:ietf:params:oauth:grant-type:jwt-bearer', 'onbehalf-at-gamma', undefined],
    ]);
    expect(gamma.tokens).not.toContain(jag[0]!.issued);
  });
});
