import { PassThrough, Writable } from 'node:stream';
import { Secret } from '../crypto/index.js';
import type { ChatServices } from '../chat/index.js';
import { providerRefusalText } from '../chat/words/oauth.js';
import { policyRefusalText } from '../chat/words/policy.js';
import type { Identity } from '../identity/index.js';
import { ShellPlatform, shellIdentity } from '../platforms/shell/index.js';
import type { DemoProvider } from './provider.js';

/** Where the demo peers are mounted on the product's own web server. */
export const DEMO_PATHS = { oauth: '/demo/oauth', notes: '/demo/notes' } as const;

/** Registers the demo provider, the notes server and its binding for the shell org. Idempotent. */
export async function setupDemo(
  s: Pick<ChatServices, 'oauth' | 'policy'>,
  identity: Identity,
  o: { publicUrl: string; provider: DemoProvider; user: string },
): Promise<void> {
  const { org } = await identity.resolve(shellIdentity(o.user).identity);
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

/** A browser's cookie jar for one origin: each request sends what that origin set before. */
function cookieBrowser(origin: string) {
  const jar = new Map<string, string>();
  return async (u: URL, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    if (jar.size && u.origin === origin) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
    const r = await fetch(u, { redirect: 'manual', ...init, headers });
    for (const c of r.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      if (eq > 0) jar.set(pair!.slice(0, eq), pair!.slice(eq + 1));
    }
    return r;
  };
}

/** A page that did not answer 200, as one line. */
const pageFailed = (status: number, html: string) =>
  new Error(
    `the connect page answered ${status}: ${html
      .replace(/<[^>]+>/g, ' ')
      .trim()
      .slice(0, 200)}`,
  );

/** A page's visible text. */
const pageText = (html: string) =>
  html
    .replace(/<(style|script)[^>]*>[\s\S]*?<\/\1>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();

/**
 * Opens a connect link as a browser on this machine would: the consent page, Continue (its hidden
 * fields, keeping the browser cookie), then signing in at the demo provider as `login`.
 */
export async function followConnectLink(url: string, login: string): Promise<string> {
  const browse = cookieBrowser(new URL(url).origin);
  const consent = await browse(new URL(url));
  const form = await consent.text();
  const fields = Object.fromEntries(
    [...form.matchAll(/<input type="hidden" name="([a-z]+)" value="([^"]*)">/g)].map((m) => [
      m[1]!,
      m[2]!.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n))),
    ]),
  );
  if (consent.status !== 200 || !fields['csrf']) throw pageFailed(consent.status, form);
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
    if (r.status !== 200) throw pageFailed(r.status, body);
    return pageText(body);
  }
  throw new Error('too many redirects while connecting');
}

/**
 * The scripted walkthrough: run a tool (parked, prompt), connect through the demo provider,
 * see the result, save and list a note, disconnect, and see the next call ask again.
 * Drives the real shell platform (`shell`, started with the app); prints what a person would see.
 */
export class DemoScript {
  readonly shell: ShellPlatform;
  readonly #input = new PassThrough();
  #seen = '';

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly user = 'alice',
    private readonly stepTimeoutMs = 20_000,
  ) {
    const tee = new Writable({
      write: (chunk, _e, cb) => {
        this.#seen += chunk.toString();
        out.write(chunk);
        cb();
      },
    });
    this.shell = new ShellPlatform({ user, input: this.#input, output: tee, prompt: '' });
  }

  async #waitFor(re: RegExp, from: number, what: string): Promise<RegExpMatchArray> {
    const deadline = Date.now() + this.stepTimeoutMs;
    for (;;) {
      const m = this.#seen.slice(from).match(re);
      if (m) return m;
      if (Date.now() > deadline) throw new Error(`demo step failed: no ${what} within ${this.stepTimeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Types a line as the user; where the output stood before it. */
  #say(line: string): number {
    const from = this.#seen.length;
    this.out.write(`${this.user}> ${line}\n`);
    this.#input.write(line + '\n');
    return from;
  }

  /** Runs every step once the app (and so the shell) has started; true when every step passed. */
  async run(): Promise<boolean> {
    try {
      await this.#steps();
      this.out.write('\n[demo] Walkthrough complete: connect, run, disconnect.\n');
      return true;
    } catch (err) {
      this.out.write(`\n[demo] ${(err as Error).message}\n`);
      return false;
    } finally {
      this.#input.end();
      await this.shell.finished;
    }
  }

  async #steps(): Promise<void> {
    const { user, out } = this;
    let at = this.#say('/onbehalf run notes.whoami {}');
    const link = await this.#waitFor(/→ Connect demo: (\S+)/, at, 'connect prompt');
    out.write(`\n[demo] Opening the connect link as a browser would, signing in as "${user}" at the demo provider…\n`);
    const page = await followConnectLink(link[1]!, user);
    out.write(`[demo] The page said: ${page.slice(0, 300)}\n\n`);
    // The shell cannot prove who the browser was, so a first connect is held until the user says it is theirs.
    const yes = await this.#waitFor(
      /Yes, that's me: \/onbehalf (connect confirm demo)/,
      at,
      'the question whether the account is yours',
    );
    this.#say(`/onbehalf ${yes[1]!}`);
    await this.#waitFor(new RegExp(`You are ${user} at the demo provider`), at, 'tool result after connecting');
    at = this.#say('/onbehalf run notes.add_note {"text":"Hello from the onbehalf demo"}');
    await this.#waitFor(/Saved note #\d+/, at, 'saved note');
    at = this.#say('/onbehalf run notes.list_notes {}');
    await this.#waitFor(/Hello from the onbehalf demo/, at, 'listed note');
    at = this.#say('/onbehalf disconnect demo');
    await this.#waitFor(/disconnect|revoked|removed/i, at, 'disconnect confirmation');
    at = this.#say('/onbehalf run notes.whoami {}');
    await this.#waitFor(/→ Connect demo: /, at, 'a new connect prompt after disconnecting');
  }
}
