import { and, asc, eq, isNotNull, lte } from 'drizzle-orm';
import { RedisLock } from '../redis/index.js';
import type { KeepAliveOptions, OAuthDeps } from './deps.js';
import { runHook } from './hooks.js';
import type { ProviderStore } from './providers.js';
import type { ConnectionRow } from './store.js';
import type { TokenService } from './tokens.js';
import type { TokenResult } from './types.js';

/**
 * For `ONBEHALF_KEEPALIVE_HOURS=24`: a grant idle for half the period is refreshed by the next
 * hourly sweep, so it is refreshed at least every 13 hours, and a missed sweep or two still leave it
 * inside 24 hours. 200 per sweep spreads a large backlog over hours instead of one burst at the
 * providers.
 */
export type { KeepAliveOptions };
export const KEEPALIVE_DEFAULTS: Required<KeepAliveOptions> = {
  idleMs: 12 * 3_600_000,
  everyMs: 3_600_000,
  batch: 200,
};

/** The Redis key whose holder runs this period's sweep: taken with NX for `everyMs`, never released early. */
const SWEEP_KEY = 'onbehalf:oauth:keepalive:sweep';

/**
 * Keeps idle grants alive at providers that expire unused refresh tokens: once per `everyMs` across
 * every process (the first to take this period's key sweeps), the `batch` grants idle longest are
 * refreshed through the token service's single flight. A grant the provider refuses becomes
 * `needs_reauth` and its owner is told (hook `grantExpired`); each refresh and failure is audited.
 */
export class KeepAlive {
  readonly #o: Required<KeepAliveOptions>;
  readonly #lock: RedisLock;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(
    private readonly d: OAuthDeps,
    private readonly providers: ProviderStore,
    private readonly tokens: TokenService,
    opts: KeepAliveOptions = {},
  ) {
    this.#o = { ...KEEPALIVE_DEFAULTS, ...opts };
    this.#lock = new RedisLock(d.redis);
  }

  /** Starts trying for the sweep: every process ticks, at most once a minute, and the period's key picks one. */
  start(): void {
    if (this.#timer || this.#o.idleMs <= 0) return;
    this.#stopped = false;
    this.#timer = setInterval(() => void this.tick(), Math.max(10, Math.min(this.#o.everyMs, 60_000)));
    this.#timer.unref();
  }

  /** Stops the timer and waits for a sweep under way (it ends after the grant it is refreshing). */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#stopped = true;
    await this.#running;
  }

  /** Sweeps if this process takes this period's key; a Redis outage skips the period. */
  async tick(): Promise<void> {
    if (this.#running) return;
    this.#running = this.#tryTick().finally(() => (this.#running = undefined));
    await this.#running;
  }

  async #tryTick(): Promise<void> {
    try {
      const mine = await this.#lock.acquire(SWEEP_KEY, this.#o.everyMs).catch(() => null);
      if (mine) await this.sweep();
    } catch (err) {
      this.d.log.warn({ err: (err as Error).message }, 'keep-alive sweep failed');
    }
  }

  /** Refreshes the grants idle longest (up to `batch`), one at a time; resolves how many it tried. */
  async sweep(now = Date.now()): Promise<number> {
    const s = this.d.store;
    const { connectedAccounts } = s.t;
    const idle = await s.rows(
      s.db
        .select()
        .from(connectedAccounts)
        .where(
          and(
            eq(connectedAccounts.status, 'active'),
            isNotNull(connectedAccounts.refreshTokenSealed),
            lte(connectedAccounts.updatedAt, now - this.#o.idleMs),
          ),
        )
        .orderBy(asc(connectedAccounts.updatedAt))
        .limit(this.#o.batch),
    );
    for (const row of idle) if (!this.#stopped) await this.#keepAlive(row);
    return idle.length;
  }

  async #keepAlive(row: ConnectionRow): Promise<void> {
    const p = await this.providers.byId(row.providerId);
    if (!p) return;
    const r = await this.tokens.keepAlive(p, row);
    await this.#audit(row, p.slug, r);
    if (r.kind !== 'needs_reauth') return;
    await runHook(this.d.hooks, this.d.log, 'grantExpired', {
      orgId: row.orgId,
      userId: row.userId,
      providerId: p.id,
      providerSlug: p.slug,
      connectionId: row.id,
      vendorLogin: row.vendorLogin,
    });
  }

  async #audit(row: ConnectionRow, provider: string, r: TokenResult): Promise<void> {
    const ok = r.kind === 'ok';
    await this.d.audit.write({
      orgId: row.orgId,
      category: 'connection',
      action: ok ? 'keepalive_refresh' : 'keepalive_failed',
      onBehalfOfUserId: row.userId,
      connectionIds: [row.id],
      vendorAccount: row.vendorLogin,
      outcome: r.kind,
      detail: { provider, ...('cause' in r && r.cause ? { cause: r.cause } : {}) },
    });
  }
}
