import { eq } from 'drizzle-orm';
import { connectedAccounts, oauthStates } from '../../src/db/schema/index.js';
import type { AppEventMap } from '../../src/events.js';
import type { OAuthService } from '../../src/oauth/index.js';
import type { AppOptions } from '../../src/app.js';
import type { OAuthServerOptions, TestBrowser } from '../support/oauth-server.js';
import { world } from '../support/world.js';

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
  const oauth: OAuthService = t.app.oauth!;
  const { org, user } = t.app.identity.resolve(w.user('alice').identity);
  const events: { name: keyof AppEventMap; payload: unknown }[] = [];
  for (const name of [
    'connection.active',
    'connection.held',
    'connection.refused',
    'connection.needs_reauth',
    'connection.failed',
    'connection.removed',
  ] as const) {
    t.app.events.on(name, (p: unknown) => events.push({ name, payload: p }));
  }
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
      return w.connectVia(await oauth.connectLink(org.id, userId, slug, linkOpts), opts);
    },
    connection: (userId = user.id) =>
      db.select().from(connectedAccounts).where(eq(connectedAccounts.userId, userId)).get(),
    states: () => db.select().from(oauthStates).all(),
    stop: () => w.stop(),
  };
}

export type Bed = Awaited<ReturnType<typeof oauthBed>>;
