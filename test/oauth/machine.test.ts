import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAudienceServer, type AudienceServer } from '../support/audience-server.js';
import { MachineAuthServer } from '../support/machine-as.js';
import { world, type World } from '../support/world.js';
import { RecordingNotifier } from '../runner/harness.js';
import { runAs } from '../support/run-tool.js';

const SECRET = 'm2m-secret-canary-41c9';
const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const PEM = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

let w: World;
let as: MachineAuthServer;
let crm: AudienceServer;
let billing: AudienceServer;
const notes = new RecordingNotifier();

beforeAll(async () => {
  w = await world({
    users: ['root', 'alice', 'bob'],
    env: { ONBEHALF_ADMINS: 'shell:local:root' },
    redis: false,
    app: { runner: { notifier: notes } },
  });
  as = await MachineAuthServer.start({ 'crm-bot': { secret: SECRET }, 'billing-bot': { key: keys.publicKey } });
  crm = await startAudienceServer((t) => as.audienceOf(t), as.issuer);
  billing = await startAudienceServer((t) => as.audienceOf(t), as.issuer);
  for (const [name, s] of [
    ['crm', crm],
    ['billing', billing],
  ] as const) {
    expect((await w.app.policy.addServer(w.org.id, { name, transport: 'http', url: s.url })).ok).toBe(true);
    expect((await w.app.policy.rule(w.org.id, 'allow', name, { tools: '*' })).ok).toBe(true);
    const source = `client_credentials:${name}`;
    expect((await w.app.policy.bind(w.org.id, name, 'header', 'Authorization', source, 'Bearer {token}')).ok).toBe(
      true,
    );
  }
});
afterAll(async () => {
  await w?.stop();
  await Promise.all([as?.stop(), crm?.stop(), billing?.stop()]);
});

/** Runs `server.whoami` as `who`; what they were told. */
async function run(who: string, server: string) {
  const n = await runAs(w, notes, who, server);
  return n.kind === 'outcome' ? n.text : `(${n.kind})`;
}

describe('a client_credentials:<server> binding', () => {
  it('before an admin sets the machine credentials, a call says so in one line and nothing is sent', async () => {
    const said = await run('alice', 'crm');
    expect(said).toContain("crm needs the org's machine credentials, which are not set");
    expect(said.split('\n')).toHaveLength(1);
    expect(as.requests).toHaveLength(0);
  });

  it('with a client secret from the private form, two members share one cached token, and each call is audited as its caller', async () => {
    const root = w.as('root');
    expect(await root.send('/onbehalf admin server auth crm --client-id crm-bot')).toContain('Client secret');
    expect(await root.send(SECRET)).toContain('saved (sealed)');
    expect(await run('alice', 'crm')).toContain(JSON.stringify({ audience: crm.url }));
    expect(await run('bob', 'crm')).toContain(crm.url);
    expect(as.requests.map((r) => [r.auth, r.clientId, r.resource, r.error])).toEqual([
      ['basic', 'crm-bot', crm.url, undefined],
    ]);
    for (const who of ['alice', 'bob']) {
      const u = await w.user(who);
      const calls = (await w.app.audit.query(w.org.id, { userId: u.id, server: 'crm' })).filter(
        (e) => e.category === 'tool_call' && e.outcome === 'ok',
      );
      expect(calls.length).toBe(1);
      expect(calls[0]).toMatchObject({ actorUserId: u.id, credentialKinds: ['client_credentials'] });
    }
    expect(JSON.stringify(await w.app.audit.query(w.org.id, {}))).not.toContain(SECRET);
  });

  it('a token the server stops accepting is requested anew once, and the call goes through', async () => {
    as.revoke(as.requests.at(-1)!.issued!);
    expect(await run('alice', 'crm')).toContain(crm.url);
    expect(as.requests).toHaveLength(2);
  });

  it('with a pasted private key, the client authenticates with a signed assertion and the key is never sent', async () => {
    const root = w.as('root');
    expect(await root.send('/onbehalf admin server auth billing --client-id billing-bot --private-key')).toContain(
      'Private key',
    );
    expect(await root.send(PEM.trim())).toContain('signs client assertions with ES256');
    expect(await run('bob', 'billing')).toContain(JSON.stringify({ audience: billing.url }));
    const r = as.requests.at(-1)!;
    expect(r).toMatchObject({ auth: 'private_key_jwt', clientId: 'billing-bot', resource: billing.url });
    expect(r.claims).toMatchObject({ iss: 'billing-bot', sub: 'billing-bot', aud: as.issuer });
    expect(r.error).toBeUndefined();
  });
});
