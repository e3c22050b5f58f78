import { PassThrough, Writable } from 'node:stream';
import { Secret } from '../crypto/index.js';
import type { ChatServices, ChatInbound, OutboundRouter } from '../chat/index.js';
import { providerRefusalText } from '../chat/words/oauth.js';
import { policyRefusalText } from '../chat/words/policy.js';
import type { Identity } from '../identity/index.js';
import { ShellOutbound, runShell, shellIdentity } from '../platforms/shell/index.js';
import type { DemoProvider } from './provider.js';

/** Where the demo peers are mounted on the product's own web server. */
export const DEMO_PATHS = { oauth: '/demo/oauth', notes: '/demo/notes' } as const;

/** Registers the demo provider, the notes server and its binding for the shell org. Idempotent. */
export async function setupDemo(
  s: Pick<ChatServices, 'oauth' | 'policy'>,
  identity: Identity,
  o: { publicUrl: string; provider: DemoProvider; user: string },
): Promise<void> {
  const { org } = identity.resolve(shellIdentity(o.user).identity);
  const base = `${o.publicUrl}${DEMO_PATHS.oauth}`;
  const existing = await s.oauth.listProviders(org.id);
  if (!existing.some((p) => p.slug === 'demo')) {
    const r = await s.oauth.addProvider(org.id, {
      slug: 'demo',
      kind: 'oauth2',
      clientId: o.provider.clientId,
      scopes: ['notes'],
      authorizeUrl: `${base}/authorize`,
      tokenUrl: `${base}/token`,
      revokeUrl: `${base}/revoke`,
      userinfoUrl: `${base}/userinfo`,
    });
    if (!r.ok) throw new Error(`demo set-up: ${providerRefusalText(r.error)}`);
  }
  // The demo provider makes a new client secret each run.
  const secret = await s.oauth.setClientSecret(org.id, 'demo', new Secret(o.provider.clientSecret));
  if (!secret.ok) throw new Error(`demo set-up: ${providerRefusalText(secret.error)}`);
  const servers = await s.policy.listServers(org.id);
  if (!servers.some((x) => x.name === 'notes')) {
    const r = await s.policy.addServer(org.id, {
      name: 'notes',
      transport: 'http',
      url: `${o.publicUrl}${DEMO_PATHS.notes}/mcp`,
    });
    if (!r.ok) throw new Error(`demo set-up: ${policyRefusalText(r.error)}`);
  }
  const b = await s.policy.bind(org.id, 'notes', 'header', 'Authorization', 'oauth:demo', 'Bearer {token}');
  if (!b.ok) throw new Error(`demo set-up: ${policyRefusalText(b.error)}`);
}

/**
 * Opens a connect link as a browser on this machine would: the consent page, Continue (its hidden
 * fields, keeping the browser cookie), then signing in at the demo provider as `login`.
 */
export async function followConnectLink(url: string, login: string): Promise<string> {
  const jar = new Map<string, string>();
  const browse = async (u: URL, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    if (jar.size && u.origin === new URL(url).origin)
      headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
    const r = await fetch(u, { redirect: 'manual', ...init, headers });
    for (const c of r.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      if (eq > 0) jar.set(pair!.slice(0, eq), pair!.slice(eq + 1));
    }
    return r;
  };
  const consent = await browse(new URL(url));
  const form = await consent.text();
  const fields = Object.fromEntries(
    [...form.matchAll(/<input type="hidden" name="([a-z]+)" value="([^"]*)">/g)].map((m) => [
      m[1]!,
      m[2]!.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n))),
    ]),
  );
  if (consent.status !== 200 || !fields['csrf'])
    throw new Error(
      `the connect page answered ${consent.status}: ${form
        .replace(/<[^>]+>/g, ' ')
        .trim()
        .slice(0, 200)}`,
    );
  const action = new URL('start', url);
  const cont = await browse(action, {
    method: 'POST',
    body: new URLSearchParams(fields).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: action.origin },
  });
  let next = new URL(cont.headers.get('location') ?? url, action).toString();
  for (let hop = 0; hop < 5; hop++) {
    const u = new URL(next);
    if (u.pathname.endsWith(`${DEMO_PATHS.oauth}/authorize`) && !u.searchParams.has('login'))
      u.searchParams.set('login', login);
    const r = await browse(u);
    const loc = r.headers.get('location');
    if (r.status >= 300 && r.status < 400 && loc) {
      next = new URL(loc, u).toString();
      continue;
    }
    const body = await r.text();
    if (r.status !== 200)
      throw new Error(
        `the connect page answered ${r.status}: ${body
          .replace(/<[^>]+>/g, ' ')
          .trim()
          .slice(0, 200)}`,
      );
    return body
      .replace(/<(style|script)[^>]*>[\s\S]*?<\/\1>/g, ' ')
      .replace(/<[^>]+>/g, ' ')
      .replace(/\s+/g, ' ')
      .trim();
  }
  throw new Error('too many redirects while connecting');
}

/**
 * The scripted walkthrough: run a tool (parked, prompt), connect through the demo provider,
 * see the result, save and list a note, disconnect, and see the next call ask again.
 * Drives the real shell platform; prints what a person would see. Resolves true when every step passed.
 */
export async function runDemoScript(
  core: ChatInbound,
  outbound: OutboundRouter,
  out: NodeJS.WritableStream,
  user = 'alice',
  stepTimeoutMs = 20_000,
): Promise<boolean> {
  const input = new PassThrough();
  let seen = '';
  const tee = new Writable({
    write(chunk, _e, cb) {
      seen += chunk.toString();
      out.write(chunk);
      cb();
    },
  });
  outbound.register('shell', new ShellOutbound(tee));
  const shell = runShell({ core, user, input, output: tee, prompt: '' });
  const waitFor = async (re: RegExp, from: number, what: string): Promise<RegExpMatchArray> => {
    const deadline = Date.now() + stepTimeoutMs;
    for (;;) {
      const m = seen.slice(from).match(re);
      if (m) return m;
      if (Date.now() > deadline) throw new Error(`demo step failed: no ${what} within ${stepTimeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const say = async (line: string) => {
    const from = seen.length;
    out.write(`${user}> ${line}\n`);
    input.write(line + '\n');
    return from;
  };
  try {
    let at = await say('/onbehalf run notes.whoami {}');
    const link = await waitFor(/→ Connect demo: (\S+)/, at, 'connect prompt');
    out.write(`\n[demo] Opening the connect link as a browser would, signing in as "${user}" at the demo provider…\n`);
    const page = await followConnectLink(link[1]!, user);
    out.write(`[demo] The page said: ${page.slice(0, 300)}\n\n`);
    // The shell cannot prove who the browser was, so a first connect is held until the user says it is theirs.
    const yes = await waitFor(
      /Yes, that's me: \/onbehalf (connect confirm demo)/,
      at,
      'the question whether the account is yours',
    );
    await say(`/onbehalf ${yes[1]!}`);
    await waitFor(new RegExp(`You are ${user} at the demo provider`), at, 'tool result after connecting');
    at = await say('/onbehalf run notes.add_note {"text":"Hello from the onbehalf demo"}');
    await waitFor(/Saved note #\d+/, at, 'saved note');
    at = await say('/onbehalf run notes.list_notes {}');
    await waitFor(/Hello from the onbehalf demo/, at, 'listed note');
    at = await say('/onbehalf disconnect demo');
    await waitFor(/disconnect|revoked|removed/i, at, 'disconnect confirmation');
    at = await say('/onbehalf run notes.whoami {}');
    await waitFor(/→ Connect demo: /, at, 'a new connect prompt after disconnecting');
    out.write('\n[demo] Walkthrough complete: connect, run, disconnect.\n');
    return true;
  } catch (err) {
    out.write(`\n[demo] ${(err as Error).message}\n`);
    return false;
  } finally {
    input.end();
    await shell;
  }
}
