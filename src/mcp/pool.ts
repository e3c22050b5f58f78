import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../log.js';
import { NetGuard, RefusedUrlError, refusalOf, type GuardedFetch } from '../net/index.js';
import { ELICITATION_CAPABILITIES, ElicitSlot, callAnswerable, leaseKey, type ElicitHandler } from './elicit.js';
import { PoolKeys } from './keys.js';
import { classifyError, type CallResult } from './outcome.js';
import { httpTransport, stdioTransport, type CredentialSet, type PoolServer } from './transports.js';

export type { CredentialSet, PoolServer } from './transports.js';

/** Options for `McpPool`, with their defaults. */
export interface PoolOptions {
  /** Most stdio processes alive at once; the least recently used idle one is closed first. Default 32. */
  maxProcesses?: number;
  /** A client or process unused this long is closed. Default 300000 ms (5 minutes). */
  idleMs?: number;
  /** How long a tools/list answer is reused per (server, credential set). Default 300000 ms. */
  catalogTtlMs?: number;
  /** Longest wait for `initialize`. Default 10000 ms. */
  connectTimeoutMs?: number;
  /**
   * The network guard every request to an admin-added http server goes through: its URL when the
   * client opens, and the address each socket connects to. Default: one that refuses private
   * addresses and plain http (the composition root passes the configured one).
   */
  net?: NetGuard;
  /** Largest single answer from an http server. Default 33554432 bytes (32 MiB). */
  maxResponseBytes?: number;
}

interface Entry {
  key: string;
  server: PoolServer;
  client: Client;
  lastUsed: number;
  inflight: number;
  closed: boolean;
  lastWwwAuthenticate?: string;
  tools?: { list: Tool[]; at: number };
  /** Set on a client that declared elicitation: it runs one call of one person at a time. */
  elicit?: ElicitSlot;
}

/** `initialize` failed; `wwwAuthenticate`: the challenge of its 401/403, if any. */
class ConnectFailed extends Error {
  constructor(
    override readonly cause: unknown,
    readonly wwwAuthenticate: string | undefined,
  ) {
    super('connect failed');
  }
}

/** A pooled client's answer: the value, or why there is none (unreachable, 401 …). */
export type PoolResult<T> = { kind: 'ok'; value: T } | Exclude<CallResult, { kind: 'ok' }>;

/**
 * MCP clients per (server, caller credential set): one Streamable HTTP client with the bound
 * headers, or one stdio process whose environment is the bound variables plus the SDK's safe list
 * (never this process's environment). Reused while the credentials are the same; a new credential
 * set (a refreshed token) gets a new client. Idle ones close; crashed processes restart on next use.
 */
export class McpPool {
  readonly #entries = new Map<string, Entry>();
  readonly #connecting = new Map<string, Promise<Entry>>();
  /** Keys of the elicitation-capable clients a call holds now (each serves one call at a time). */
  readonly #leased = new Set<string>();
  readonly #keys = new PoolKeys();
  readonly #lastCatalog = new Map<string, Tool[]>();
  readonly #sweep: NodeJS.Timeout;
  readonly #o: Required<Omit<PoolOptions, 'net'>>;
  readonly #net: NetGuard;
  /** The guard was made here (no `net` option), so `close` closes it. */
  readonly #ownNet: boolean;
  readonly #guarded: GuardedFetch;

  constructor(
    private readonly log: Logger,
    opts: PoolOptions = {},
  ) {
    this.#o = {
      maxProcesses: opts.maxProcesses ?? 32,
      idleMs: opts.idleMs ?? 300_000,
      catalogTtlMs: opts.catalogTtlMs ?? 300_000,
      connectTimeoutMs: opts.connectTimeoutMs ?? 10_000,
      maxResponseBytes: opts.maxResponseBytes ?? 32 << 20,
    };
    this.#ownNet = !opts.net;
    this.#net = opts.net ?? new NetGuard();
    // No whole-exchange deadline: a call's own deadline (and the SSE stream's life) bound it.
    this.#guarded = this.#net.fetch({ timeoutMs: 0, maxBytes: this.#o.maxResponseBytes });
    this.#sweep = setInterval(() => this.#closeIdle(), Math.max(50, Math.min(this.#o.idleMs / 2, 30_000)));
    this.#sweep.unref();
  }

  /** Live clients and processes (for tests and metrics). */
  get size(): { clients: number; processes: number } {
    const all = [...this.#entries.values()];
    return { clients: all.length, processes: all.filter((e) => e.server.transport === 'stdio').length };
  }

  /** The server's tools as this credential set sees them (cached). */
  async tools(server: PoolServer, creds: CredentialSet): Promise<PoolResult<Tool[]>> {
    const got = await this.#get(server, creds);
    if (got.kind !== 'ok') return got;
    const e = got.value;
    if (e.tools && Date.now() - e.tools.at < this.#o.catalogTtlMs) return { kind: 'ok', value: e.tools.list };
    try {
      e.inflight++;
      const list: Tool[] = [];
      let cursor: string | undefined;
      do {
        const page = await e.client.listTools(cursor ? { cursor } : undefined, { timeout: this.#o.connectTimeoutMs });
        list.push(...page.tools);
        cursor = page.nextCursor;
      } while (cursor && list.length < 10_000);
      e.tools = { list, at: Date.now() };
      this.#lastCatalog.set(server.id, list);
      return { kind: 'ok', value: list };
    } catch (err) {
      return this.#failed(e, err, 'connect');
    } finally {
      e.inflight--;
      e.lastUsed = Date.now();
    }
  }

  /** The last tools/list seen for a server with any credential set (names and schemas only). */
  lastCatalog(serverId: string): Tool[] | undefined {
    return this.#lastCatalog.get(serverId);
  }

  /**
   * Calls one tool; aborts at `timeoutMs` (the server is sent `notifications/cancelled`). With
   * `elicit` (the call comes from a person who can answer), it runs on a client of its own that
   * declared the elicitation capability, so the server's questions reach that person only.
   */
  async call(
    server: PoolServer,
    creds: CredentialSet,
    tool: string,
    args: Record<string, unknown>,
    timeoutMs: number,
    elicit?: ElicitHandler,
  ): Promise<CallResult> {
    const lease = elicit ? leaseKey(this.#leased, this.#keys.of(server, creds)) : undefined;
    const got = await this.#get(server, creds, lease);
    if (got.kind !== 'ok') return (lease && this.#leased.delete(lease), got);
    const e = got.value;
    e.inflight++;
    try {
      const params = { name: tool, arguments: args };
      // Nobody to answer questions: the SDK's own deadline, which sends notifications/cancelled at `timeoutMs`.
      const result = elicit
        ? await callAnswerable(e.client, e.elicit, elicit, params, timeoutMs)
        : await e.client.callTool(params, undefined, { timeout: timeoutMs });
      return { kind: 'ok', result: result as Extract<CallResult, { kind: 'ok' }>['result'] };
    } catch (err) {
      return this.#failed(e, err, 'call');
    } finally {
      if (lease) this.#leased.delete(lease);
      e.inflight--;
      e.lastUsed = Date.now();
    }
  }

  /** Closes the client of this credential set (after the server rejected it). */
  async discard(server: PoolServer, creds: CredentialSet): Promise<void> {
    const e = this.#entries.get(this.#keys.of(server, creds));
    if (e) await this.#close(e);
  }

  /** Closes every client and process. */
  async close(): Promise<void> {
    clearInterval(this.#sweep);
    await Promise.all([...this.#entries.values()].map((e) => this.#close(e)));
    if (this.#ownNet) this.#net.close();
  }

  #failed(e: Entry, err: unknown, phase: 'connect' | 'call'): Exclude<CallResult, { kind: 'ok' }> {
    const r = classifyError(err, phase, e.lastWwwAuthenticate);
    if (r.kind === 'ok') throw new Error('unreachable');
    // A broken or rejected connection is not reused; the next call starts a fresh one.
    if (r.kind === 'unreachable' || r.kind === 'unauthorized') void this.#close(e);
    this.log.debug(
      { server: e.server.name, kind: r.kind, detail: 'detail' in r ? r.detail : undefined },
      'mcp call failed',
    );
    return r as Exclude<CallResult, { kind: 'ok' }>;
  }

  async #get(server: PoolServer, creds: CredentialSet, lease?: string): Promise<PoolResult<Entry>> {
    const key = lease ?? this.#keys.of(server, creds);
    const have = this.#entries.get(key);
    if (have && !have.closed) {
      have.lastUsed = Date.now();
      return { kind: 'ok', value: have };
    }
    let p = this.#connecting.get(key);
    if (!p) {
      p = this.#open(key, server, creds, lease !== undefined).finally(() => this.#connecting.delete(key));
      this.#connecting.set(key, p);
    }
    try {
      return { kind: 'ok', value: await p };
    } catch (err) {
      const failed = err instanceof ConnectFailed ? err : undefined;
      const r = classifyError(failed?.cause ?? err, 'connect', failed?.wwwAuthenticate);
      return r.kind === 'ok' ? { kind: 'unreachable', sent: false, detail: 'connect' } : r;
    }
  }

  async #open(key: string, server: PoolServer, creds: CredentialSet, elicitable: boolean): Promise<Entry> {
    if (server.transport === 'stdio') await this.#makeRoom();
    else if (server.source !== 'operator') {
      const c = this.#net.checkUrl(server.url!);
      if (!c.ok) throw new RefusedUrlError(refusalOf(c), server.name);
    }
    const client = new Client(
      { name: 'onbehalf', version: '0.1.0' },
      elicitable ? { capabilities: ELICITATION_CAPABILITIES } : undefined,
    );
    const entry: Entry = { key, server, client, lastUsed: Date.now(), inflight: 0, closed: false };
    if (elicitable) (entry.elicit = new ElicitSlot()).install(client);
    const transport =
      server.transport === 'http'
        ? // An operator's server is the operator's own choice; an admin's goes through the guard.
          httpTransport(server, creds, server.source === 'operator' ? fetch : this.#guarded, (h) => {
            entry.lastWwwAuthenticate = h;
          })
        : stdioTransport(server, creds);
    try {
      await client.connect(transport, { timeout: this.#o.connectTimeoutMs });
    } catch (err) {
      await client.close().catch(() => undefined);
      // A 403 at initialize is told apart by its challenge (insufficient_scope carries the scopes).
      throw new ConnectFailed(err, entry.lastWwwAuthenticate);
    }
    client.onclose = () => {
      entry.closed = true;
      if (this.#entries.get(key) === entry) this.#entries.delete(key);
    };
    this.#entries.set(key, entry);
    return entry;
  }

  async #makeRoom(): Promise<void> {
    const procs = [...this.#entries.values()]
      .filter((e) => e.server.transport === 'stdio')
      .sort((a, b) => a.lastUsed - b.lastUsed);
    let excess = procs.length - this.#o.maxProcesses + 1;
    for (const e of procs) {
      if (excess <= 0) break;
      if (e.inflight > 0) continue;
      await this.#close(e);
      excess--;
    }
  }

  #closeIdle(): void {
    const cutoff = Date.now() - this.#o.idleMs;
    for (const e of this.#entries.values()) if (e.inflight === 0 && e.lastUsed < cutoff) void this.#close(e);
  }

  async #close(e: Entry): Promise<void> {
    if (this.#entries.get(e.key) === e) this.#entries.delete(e.key);
    if (e.closed) return;
    e.closed = true;
    await e.client.close().catch(() => undefined);
  }
}
