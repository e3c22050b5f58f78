import type { Redis } from 'ioredis';
import type { AuditLog } from '../audit/index.js';
import type { Keyring, LinkSigner } from '../crypto/index.js';
import type { Store } from '../db/index.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { NetGuard } from '../net/index.js';
import type { ConnectionHooks } from './hooks.js';

/** A chat platform's own sign-in (Sign in with Slack, Discord `identify`), where configured. */
export interface ChatSignIn {
  /** Whether sign-in is configured for this platform. */
  has(platform: string): boolean;
  /** Origin of the platform's authorize page (for the consent page's CSP). */
  origin(platform: string): string | undefined;
  /** The platform's authorize URL for our state and PKCE challenge. */
  authorizeUrl(platform: string, state: string, challenge: string, redirectUri: string): Promise<string | undefined>;
  /** Exchanges the code; who the browser is on the platform. */
  verify(platform: string, code: string, verifier: string, redirectUri: string): Promise<SignedIn>;
}

/** The platform's answer: the signed-in user (and workspace/guild where the platform says one). */
export type SignedIn =
  { ok: true; workspaceId: string | null; userId: string; name: string | null } | { ok: false; reason: string };

/** Tunables of the OAuth engine, with their defaults. */
export interface OAuthOptions {
  /**
   * Freshness margin: refresh when the token expires within `min(refreshSkewMs, refreshSkewFraction ×
   * lifetime)`, the lifetime being `expires_at` minus the time the token was stored. Default 60000 ms.
   */
  refreshSkewMs?: number;
  /** The margin's share of a token's lifetime, so short-lived tokens are not stale on arrival. Default 0.1. */
  refreshSkewFraction?: number;
  /**
   * Life of the refresh lock in Redis (a crashed holder frees it after this). A live holder extends it
   * every third of this while its refresh runs. Default 30000 ms.
   */
  lockTtlMs?: number;
  /** Attempts at storing a rotated token set before it is stashed in Redis. Default 3. */
  writeAttempts?: number;
  /** Life of a rotated token set kept sealed in Redis when the database would not take it. Default 600000 ms. */
  stashTtlMs?: number;
  /**
   * How long a caller waits for another process's refresh before giving up. Default: the holder's
   * worst case (see `refreshWaitMs`), so a waiter never gives up on a refresh that may still succeed.
   */
  lockWaitMs?: number;
  /** How often a waiter re-reads the row. Default 25 ms. */
  pollMs?: number;
  /** Attempts at the token endpoint on 5xx or network errors. Default 3. */
  refreshAttempts?: number;
  /** First backoff between attempts, doubled each time. Default 250 ms. */
  backoffMs?: number;
  /** Life of a start link and of a state. Default 600 s. */
  flowTtlSeconds?: number;
  /** Timeout of one request to a provider. Default 10000 ms. */
  httpTimeoutMs?: number;
}

/** Timings of the keep-alive of idle grants; defaults in `KEEPALIVE_DEFAULTS`. */
export interface KeepAliveOptions {
  /** A grant not refreshed (nor reconnected) for this long is refreshed by the next sweep. 0: keep-alive off. */
  idleMs?: number;
  /** How often one sweep runs across the whole deployment (one process per period takes it). */
  everyMs?: number;
  /** Grants one sweep refreshes at most, those idle longest first. */
  batch?: number;
}

/** Everything the OAuth engine is built from (passed by the composition root). */
export interface OAuthDeps {
  store: Store;
  keyring: Keyring;
  links: LinkSigner;
  /** Used for the cross-process refresh lock. */
  redis: Redis;
  /** What happens elsewhere when a grant arrives, is held or refused (awaited). Default: nothing. */
  hooks?: Partial<ConnectionHooks> | undefined;
  audit: AuditLog;
  log: Logger;
  metrics?: Metrics | undefined;
  /** `PUBLIC_URL`: the redirect URI is `publicUrl + /oauth/callback`. */
  publicUrl: string;
  /**
   * `ONBEHALF_CLIENT_METADATA_URL`: the client id onbehalf uses where an authorization server
   * accepts client ID metadata documents. Default `publicUrl + /oauth/client.json`.
   */
  clientMetadataUrl?: string | undefined;
  /** The network guard every provider, discovery and registration request goes through (`ONBEHALF_ALLOW_PRIVATE_URLS`). */
  net: NetGuard;
  /** Chat sign-in (Sign in with Slack, Discord `identify`) before the provider, where configured. Default none. */
  signIn?: ChatSignIn | undefined;
  options?: OAuthOptions;
  /** Keep-alive of idle grants (`ONBEHALF_KEEPALIVE_HOURS`). Default `KEEPALIVE_DEFAULTS`. */
  keepAlive?: KeepAliveOptions | undefined;
}

export const defaults: Omit<Required<OAuthOptions>, 'lockWaitMs'> = {
  refreshSkewMs: 60_000,
  refreshSkewFraction: 0.1,
  lockTtlMs: 30_000,
  writeAttempts: 3,
  stashTtlMs: 600_000,
  pollMs: 25,
  refreshAttempts: 3,
  backoffMs: 250,
  flowTtlSeconds: 600,
  httpTimeoutMs: 10_000,
};

/**
 * The longest one refresh can take under the lock: every attempt timing out, the backoffs between
 * them, and a second of margin; never less than the lock's life (a crashed holder frees it then, and
 * a waiter takes over). 3 × 10 s + 0.25 s + 0.5 s + 1 s = 31.75 s with the defaults.
 */
export function refreshWaitMs(o: Omit<Required<OAuthOptions>, 'lockWaitMs'>): number {
  let backoff = 0;
  for (let attempt = 1; attempt < o.refreshAttempts; attempt++) backoff += o.backoffMs * 2 ** (attempt - 1);
  return Math.max(o.lockTtlMs, o.refreshAttempts * o.httpTimeoutMs + backoff) + 1000;
}

/** The options with every default filled in (`lockWaitMs` derived from the others unless set). */
export function withDefaults(options: OAuthOptions = {}): Required<OAuthOptions> {
  const o = { ...defaults, ...options };
  return { ...o, lockWaitMs: options.lockWaitMs ?? refreshWaitMs(o) };
}
