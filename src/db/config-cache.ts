// A process's copies of the configuration rows every tool call reads (its server, the server's
// bindings and rules, the OAuth provider, the caller's user row and teams), kept exact by `config_version`
// (schema/storage.ts): the database bumps it on every change to those tables (triggers, in any
// process or by hand), and a call's row is read together with it. A copy serves a call only when it
// was read after the version the call saw was current, so a call never uses configuration older
// than what a fresh read at the moment its row was read would have found.
import type { Store } from './store.js';

/** The configuration version a call's row was read with; undefined: not known (read fresh). */
export type ConfigSeen = number | undefined;

interface Entry {
  /** The version that was current before the value was read: the value is at least that new. */
  at: number;
  value: Promise<unknown>;
}

/** How many copies a process keeps (mostly two per user: their row and their teams); past it, all are dropped. */
const MAX_ENTRIES = 10_000;

export class ConfigCache {
  readonly #entries = new Map<string, Entry>();
  /** The newest version any call has seen here: copies older than it are dropped as they are met. */
  #newest = -1;

  /**
   * The value of `key` as `load` reads it, read again unless a copy read at `seen` or later exists.
   * Concurrent reads of one key at one version share one load. `seen` undefined: always `load`.
   */
  read<T>(key: string, seen: ConfigSeen, load: () => Promise<T>): Promise<T> {
    if (seen === undefined) return load();
    if (seen > this.#newest) {
      // Everything read before the configuration changed is stale for every later call.
      if (this.#newest >= 0) this.#entries.clear();
      this.#newest = seen;
    }
    const have = this.#entries.get(key);
    if (have && have.at >= seen) return have.value as Promise<T>;
    if (this.#entries.size >= MAX_ENTRIES) this.#entries.clear();
    const value = load().then(frozen);
    const entry: Entry = { at: seen, value };
    this.#entries.set(key, entry);
    // A failed read is not kept: the next call reads again.
    value.catch(() => {
      if (this.#entries.get(key) === entry) this.#entries.delete(key);
    });
    return value;
  }
}

/** Shared by every call that reads the copy: frozen, so a change to it throws instead of reaching another call. */
function frozen<T>(v: T): T {
  if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v) || Object.isFrozen(v)) return v;
  for (const inner of Object.values(v)) frozen(inner);
  return Object.freeze(v);
}

const caches = new WeakMap<Store, ConfigCache>();

/** The configuration cache of one store (one per process and database). */
export function configCache(store: Store): ConfigCache {
  let c = caches.get(store);
  if (!c) caches.set(store, (c = new ConfigCache()));
  return c;
}
