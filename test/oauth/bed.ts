import { eq } from 'drizzle-orm';
import type { Store } from '../../src/db/index.js';
import type { ConnectionHooks } from '../../src/oauth/index.js';
import type { OAuthService } from '../../src/oauth/index.js';
import type { AppOptions } from '../../src/app.js';
import type { OAuthServerOptions, TestBrowser } from '../support/oauth-server.js';
import { world } from '../support/world.js';

/** The connected account of `userId` (one per provider; the tests use one provider each), or undefined. */
export const connectionOf = (store: Store, userId: string) => {
  const { connectedAccounts } = store.t;
  return store.first(store.db.select().from(connectedAccounts).where(eq(connectedAccounts.userId, userId)).limit(1));
};

/** Canary values that must never appear in a log line. */
export const CLIENT_SECRET = 'client-secret-canary-7f3a';

/**
 * The world for OAuth tests: the real app (serve mode, PUBLIC_URL = its own loopback URL, its private
 * redis) + a loopback OAuth server + Alice in Acme with provider `vendor`.
 */
export async function oauthBed(
  opts: { server?: OAuthServerOptions; env?: Record<string, string>; app?: Pick<AppOptions, 'net'> } = {},
) {
  const w = await world({
    users: ['alice'],
    displayNames: { alice: 'Alice' },
    workspaceName: 'Acme',
    provider: 'vendor',
    client: { secret: CLIENT_SECRET },
    oauth: opts.server,
    redis: false,
    shell: false,
    env: opts.env,
    app: opts.app,
  });
  const { t, oauth: server } = w;
  const oauth: OAuthService = t.app.oauth;
  const { org, user } = await t.app.identity.resolve((await w.user('alice')).identity);
  // What the OAuth engine told the rest of the product, recorded after the product's own hooks ran.
  const events: { name: keyof ConnectionHooks; payload: unknown }[] = [];
  const record = (name: keyof ConnectionHooks) => async (payload: unknown) => void events.push({ name, payload });
  t.app.connections.add({
    grantArrived: record('grantArrived'),
    grantHeld: record('grantHeld'),
    grantRefused: record('grantRefused'),
    signInMismatch: record('signInMismatch'),
  });
  const store = t.app.store;
  const { oauthStates } = store.t;
  return {
    t,
    server,
    oauth,
    org,
    user,
    events,
    store,
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
      return w.connectVia(await oauth.connectLink(org.id, userId, slug, linkOpts), opts);
    },
    connection: (userId = user.id) => connectionOf(store, userId),
    states: () => store.rows(store.db.select().from(oauthStates)),
    stop: () => w.stop(),
  };
}

export type Bed = Awaited<ReturnType<typeof oauthBed>>;
