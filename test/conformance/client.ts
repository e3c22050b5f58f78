// The MCP conformance suite's client: the suite starts a scenario's server, appends its URL to this
// command and names the scenario in MCP_CONFORMANCE_SCENARIO. This drives the real product: the
// composition root on its embedded defaults (SQLite, private redis-server), the server added by an
// admin with the binding the scenario needs, and a chat user in the shell running each tool through
// the runner, completing any connect flow as a browser would (connect link → consent page →
// authorization server → our callback). Nothing in src/ knows it is being tested.
import { PassThrough, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { createApp } from '../../src/app.js';
import { runShell, shellIdentity, ShellOutbound, ShellScreen } from '../../src/platforms/shell/index.js';
import { freePort } from '../../src/redis/index.js';
import { PortInUseError } from '../../src/web/index.js';
import { tempDir, testConfig } from '../support/env.js';
import { authorizeInBrowser } from '../support/oauth-server.js';
import { startIdpFront } from './idp-front.js';

const READY = '§ready§';
const url = process.argv[2];
const scenario = process.env['MCP_CONFORMANCE_SCENARIO'] ?? '';
if (!url) throw new Error('usage: client.ts <server-url> (MCP_CONFORMANCE_SCENARIO names the scenario)');

/** One person typing into the real shell platform; everything shown to them is in `output`. */
class Person {
  output = '';
  readonly input = new PassThrough();
  readonly stream: Writable;
  constructor(core: Parameters<typeof runShell>[0]['core'], user: string) {
    const out = new Writable({
      write: (chunk, _e, cb) => {
        this.output += chunk.toString();
        cb();
      },
    });
    const screen = new ShellScreen(out);
    this.stream = screen.stream;
    void runShell({ core, user, input: this.input, output: out, prompt: `${READY}\n`, screen });
  }
  /** Types a line; what was printed until the shell is ready again. */
  async send(line: string): Promise<string> {
    const from = this.output.length;
    this.input.write(line + '\n');
    await until(() => this.output.indexOf(READY, from) >= 0, `an answer to ${line}`);
    return this.output.slice(from, this.output.indexOf(READY, from));
  }
  /** Everything printed since `from` once `test` holds. */
  async waitFor(from: number, test: (s: string) => boolean, what: string): Promise<string> {
    await until(() => test(this.output.slice(from)), what);
    return this.output.slice(from);
  }
}

async function until(test: () => boolean, what: string, ms = 25_000): Promise<void> {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await sleep(20);
  }
}

/** Arguments for a tool from its input schema: the first enum value, a number 1, `true`, a string. */
function argsFor(schema: { properties?: Record<string, { type?: string; enum?: unknown[] }> } | undefined) {
  const out: Record<string, unknown> = {};
  for (const [k, p] of Object.entries(schema?.properties ?? {}))
    out[k] = p.enum?.[0] ?? (p.type === 'number' || p.type === 'integer' ? 1 : p.type === 'boolean' ? true : 'x');
  return out;
}

const needsAuth = scenario.startsWith('auth/');
/** What the scenario tells its client: pre-registered client credentials, a machine key, an IdP's ID token. */
const context = JSON.parse(process.env['MCP_CONFORMANCE_CONTEXT'] ?? '{}') as {
  client_id?: string;
  client_secret?: string;
  private_key_pem?: string;
  idp_client_id?: string;
  idp_id_token?: string;
  idp_token_endpoint?: string;
};
/** The credential source the scenario's server is for: the org's machine identity, the caller's IdP grant exchanged, or MCP OAuth. */
const source = scenario.startsWith('auth/client-credentials')
  ? 'client_credentials:conf'
  : context.idp_id_token
    ? 'exchange:idp'
    : 'mcp_oauth';
const { dir, cleanup } = tempDir();
/**
 * onbehalf's `serve` on a free port. The suite starts its own servers beside us, so a port can be
 * taken between choosing it and listening on it: then a new one is chosen (3 tries).
 */
async function startApp() {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const made = await createApp(
      testConfig(dir, {
        PORT: String(port),
        PUBLIC_URL: `http://127.0.0.1:${port}`,
        // The suite's servers listen on loopback over http.
        ONBEHALF_ALLOW_PRIVATE_URLS: 'true',
        LOG_LEVEL: 'warn',
        // The suite's authorization servers take this fixed URL as a client ID metadata document (an
        // operator would host onbehalf's /oauth/client.json there; PUBLIC_URL here is plain http).
        ONBEHALF_CLIENT_METADATA_URL: 'https://conformance-test.local/client-metadata.json',
        ONBEHALF_ADMINS: 'shell:local:conformance',
      }),
      { mode: 'serve' },
    );
    try {
      await made.start();
      return made;
    } catch (err) {
      await made.stop().catch(() => undefined);
      if (!(err instanceof PortInUseError) || attempt >= 3) throw err;
    }
  }
}
const app = await startApp();
const people = new Map<string, Person>();
app.outbound.register('shell', new ShellOutbound((u) => people.get(u)?.stream));
let failed = false;
const front =
  context.idp_token_endpoint && context.idp_id_token
    ? await startIdpFront(context.idp_token_endpoint, context.idp_id_token)
    : undefined;
try {
  const me = new Person(app.chat, 'conformance');
  people.set('conformance', me);
  await me.send('/onbehalf help');
  const { org, user } = await app.identity.resolve(shellIdentity('conformance').identity);
  const added = await app.policy.addServer(org.id, { name: 'conf', transport: 'http', url });
  if (!added.ok) throw new Error(`server not added: ${JSON.stringify(added.error)}`);
  const allowed = await app.policy.rule(org.id, 'allow', 'conf', { tools: '*' });
  if (!allowed.ok) throw new Error(`rule not added: ${JSON.stringify(allowed.error)}`);
  if (needsAuth) {
    const bound = await app.policy.bind(org.id, 'conf', 'header', 'Authorization', source, 'Bearer {token}');
    if (!bound.ok) throw new Error(`not bound: ${JSON.stringify(bound.error)}`);
  }
  // As an admin would: the client id in the command, the secret (or the pasted key) in its private (hidden) prompt.
  if (context.client_id)
    process.stdout.write(
      await me.send(
        context.private_key_pem
          ? `/onbehalf admin server auth conf --client-id ${context.client_id} --private-key\n${context.private_key_pem.trim()}`
          : `/onbehalf admin server auth conf --client-id ${context.client_id}\n${context.client_secret ?? ''}`,
      ),
    );
  // The company IdP people sign in with, as an admin registers it (a public client there).
  if (front)
    process.stdout.write(
      await me.send(
        `/onbehalf admin provider add idp oauth2 ${context.idp_client_id ?? 'idp-client'} --authorize ${front.url}/authorize --token ${front.url}/token --scopes openid\n`,
      ),
    );
  // As a person would: ask for the tools, connect where told to, ask again, then run each.
  let listed = await me.send('/onbehalf tools');
  process.stdout.write(listed);
  const slug = listed.match(/`\/onbehalf connect ([a-z0-9_-]+)`/)?.[1];
  if (slug) {
    await connect(me, await me.send(`/onbehalf connect ${slug}`), slug);
    listed = await me.send('/onbehalf tools');
    process.stdout.write(listed);
  }
  const { tools } = await app.catalog.catalog(org.id, user);
  for (const t of tools) await runTool(me, t.tool, argsFor(t.inputSchema as never));
} catch (err) {
  failed = true;
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
} finally {
  for (const p of people.values()) p.input.end();
  await app.stop();
  await front?.stop();
  cleanup();
}
process.exit(failed ? 1 : 0);

/** Follows the connect link in `said` in a browser, and confirms the account in chat where asked to. */
async function connect(me: Person, said: string, slug: string | undefined): Promise<void> {
  const link = [...said.matchAll(/(http:\/\/127\.0\.0\.1:\d+\/oauth\/start\?t=[^\s)>`]+)/g)].at(-1)?.[1];
  if (!link) throw new Error(`no connect link in: ${said}`);
  const from = me.output.length;
  const step = await authorizeInBrowser(link);
  if (!('callbackUrl' in step)) throw new Error(`the connect flow stopped: ${step.status} ${step.body.slice(0, 300)}`);
  const page = await step.browser.fetch(step.callbackUrl);
  process.stdout.write(`callback: ${page.status}\n`);
  const after = await me.waitFor(from, (s) => /connect|account/i.test(s), 'word of the connection').catch(() => '');
  const held =
    after.match(/\/onbehalf connect confirm ([a-z0-9_-]+)/)?.[1] ?? (/confirm/i.test(after) ? slug : undefined);
  if (held) process.stdout.write(await me.send(`/onbehalf connect confirm ${held}`));
}

/** Runs one tool as the person, following each connect link the product sends them, until it answers. */
async function runTool(me: Person, tool: string, args: Record<string, unknown>): Promise<void> {
  const from = me.output.length;
  let said = await me.send(`/onbehalf run conf.${tool} ${JSON.stringify(args)}`);
  // What the product's outcome lines start with (chat/outcomes.ts).
  const answered = (s: string) =>
    /`conf\.[^`]+`( reported an error:| failed:| was not run:| was cancelled:|:\n)/.test(s);
  const asked = /`\/onbehalf answer ([A-Za-z0-9_-]+)`/;
  for (let round = 0; round < 4 && !answered(said); round++) {
    said = await me.waitFor(
      from,
      (s) => answered(s) || asked.test(s) || /\/oauth\/start\?t=/.test(s.slice(said.length)),
      'an answer',
    );
    if (answered(said)) break;
    const question = said.match(asked)?.[1];
    // A form the server asks for: open it and press Enter on every field, keeping each default.
    if (question) {
      me.input.write(`/onbehalf answer ${question}\n${'\n'.repeat(50)}`);
      said = await me.waitFor(from, answered, `the answer of conf.${tool}`);
      break;
    }
    await connect(me, said, undefined);
  }
  // Every run the person starts must end in an answer they can read; no answer is a failure of ours.
  await me.waitFor(from, answered, `the answer of conf.${tool}`);
  process.stdout.write(me.output.slice(from));
}
