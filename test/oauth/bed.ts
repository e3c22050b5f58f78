import { eq } from 'drizzle-orm';
import { Secret } from '../../src/crypto/index.js';
import { connectedAccounts, oauthStates } from '../../src/db/schema/index.js';
import type { ConnectionHooks } from '../../src/oauth/index.js';
import type { OAuthService } from '../../src/oauth/index.js';
import { freePort } from '../../src/redis/index.js';
import type { AppOptions } from '../../src/app.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { authorizeInBrowser, OAuthTestServer, TestBrowser, type OAuthServerOptions } from '../support/oauth-server.js';

/** Canary values that must never appear in a log line. */
export const CLIENT_SECRET = 'client-secret-canary-7f3a';

/** The real app (serve mode, PUBLIC_URL = its own loopback URL) + a loopback OAuth server + Alice in Acme with provider `vendor`. */
export async function oauthBed(
  opts: { server?: OAuthServerOptions; env?: Record<string, string>; app?: Pick<AppOptions, 'net'> } = {},
) {
  const port = await freePort();
  const t: TestApp = await startTestApp(
    { PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, ...opts.env },
    'serve',
    opts.app,
  );
  const server = await OAuthTestServer.start(opts.server);
  const oauth: OAuthService = t.app.oauth;
  const { org, user } = t.app.identity.resolve({
    platform: 'shell',
    workspaceId: 'local',
    userId: 'alice',
    displayName: 'Alice',
    workspaceName: 'Acme',
  });
  const added = await oauth.addProvider(org.id, {
    slug: 'vendor',
    kind: 'oauth2',
    clientId: 'client-1',
    clientSecret: new Secret(CLIENT_SECRET),
    scopes: ['repo'],
    issuer: server.issuer,
    ...server.endpoints,
  });
  if (!added.ok) throw new Error(JSON.stringify(added.error));
  // What the OAuth engine told the rest of the product, recorded after the product's own hooks ran.
  const events: { name: keyof ConnectionHooks; payload: unknown }[] = [];
  const record = (name: keyof ConnectionHooks) => async (payload: unknown) => void events.push({ name, payload });
  t.app.connections.add({
    grantArrived: record('grantArrived'),
    grantHeld: record('grantHeld'),
    grantRefused: record('grantRefused'),
    signInMismatch: record('signInMismatch'),
  });
  const db = t.app.db;
  return {
    t,
    server,
    oauth,
    org,
    user,
    events,
    db,
    /**
     * Connects `userId` (default Alice) through the browser flow; returns the callback page. A first
     * connect from this unproven browser is held; `confirm` (default true) then confirms it as the
     * user would in chat.
     */
    async connect(
      userId = user.id,
      slug = 'vendor',
      linkOpts: { resumeCallId?: string; extraScopes?: string[] } = {},
      opts: { confirm?: boolean; browser?: TestBrowser } = {},
    ) {
      const link = await oauth.connectLink(org.id, userId, slug, linkOpts);
      const step = await authorizeInBrowser(link, opts.browser);
      if (!('callbackUrl' in step)) throw new Error(`start failed: ${step.status} ${step.body}`);
      const res = await step.browser.fetch(step.callbackUrl);
      const html = await res.text();
      if (
        opts.confirm !== false &&
        (await oauth.listConnections(org.id, userId)).some((c) => c.providerSlug === slug && c.status === 'held')
      ) {
        const ok = await oauth.confirmHeld(org.id, userId, slug);
        if (!ok.ok) throw new Error(JSON.stringify(ok.error));
      }
      return { res, html, link, ...step };
    },
    connection: (userId = user.id) =>
      db.select().from(connectedAccounts).where(eq(connectedAccounts.userId, userId)).get(),
    states: () => db.select().from(oauthStates).all(),
    async stop() {
      await server.stop();
      await t.stop();
    },
  };
}

export type Bed = Awaited<ReturnType<typeof oauthBed>>;
