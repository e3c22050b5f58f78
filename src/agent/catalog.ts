import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { User } from '../identity/index.js';
import type { McpPool } from '../mcp/index.js';
import {
  approvalMode,
  resolveCredentials,
  visible,
  type McpServerRow,
  type Policy,
  type RunnerTokens,
} from '../policy/index.js';
import type { Problem } from '../db/schema/shapes.js';

/** A tool as the caller's catalog lists it. */
export interface CatalogTool {
  server: string;
  tool: string;
  description: string;
  inputSchema: Record<string, unknown>;
}

/** What `testServer` found, as a value (`chat/` words it). */
export type ServerTest =
  | { kind: 'ok'; server: string; tools: string[] }
  | { kind: 'unknown_server'; server: string }
  | { kind: 'needs_connect'; server: string; providerSlug: string }
  | { kind: 'misconfigured'; server: string; problem: Problem }
  /** The listing failed: `result` its kind (`unreachable`, `protocol` …), `detail` an unreachable server's code. */
  | { kind: 'unexpected'; server: string; result: string; detail?: string };

/** A server whose tools the caller cannot list yet: their own grant is missing or must be renewed. */
export interface CatalogGap {
  server: string;
  providerSlug: string;
  /**
   * The server answered 403 `insufficient_scope`: it wants `scopes` on top of the grant. `connectUrl`
   * asks for them together with what was granted; absent once `rounds` step-ups did not satisfy it.
   */
  more?: { scopes: string[]; rounds: number; connectUrl?: string };
}

/** Options of the tool catalog. */
export interface ToolCatalogOptions {
  /** Times a caller is sent to grant more scopes for one server's listing before it stops asking. Default 2. */
  maxStepUps?: number;
  /** How long those rounds are remembered (a later `tools` starts afresh). Default 15 minutes. */
  stepUpMemoryMs?: number;
}

/**
 * The tools each caller may see, listed with their own credentials and filtered by access rules.
 * A listing made with one caller's credentials is never shown to another: when a caller's
 * credentials do not resolve (or listing fails), they see their own last listing of that server,
 * if any; a caller who lacks a grant and never listed sees what an http server lists without any
 * credentials (if it does), else nothing from it. Either way, a gap names the account to connect.
 */
export class ToolCatalog {
  /** The last listing of each server made with each user's own credentials (`serverId␀userId`). */
  readonly #own = new Map<string, Tool[]>();
  /** Step-ups of each caller's listing of each server (`serverId␀userId`): rounds, and when the first was. */
  readonly #stepUps = new Map<string, { rounds: number; since: number }>();

  constructor(
    private readonly policy: Policy,
    private readonly pool: McpPool,
    private readonly tokens: RunnerTokens,
    private readonly o: ToolCatalogOptions = {},
  ) {}

  /**
   * The caller's catalog (tools only; see `catalog` for the servers they still need to connect).
   * `forModel`: the catalog offered to the model, without tools an admin set to `never` (`admin approve`).
   */
  async catalogFor(
    orgId: string,
    user: User,
    channelId?: string,
    opts: { forModel?: boolean } = {},
  ): Promise<CatalogTool[]> {
    return (await this.catalog(orgId, user, channelId, opts)).tools;
  }

  /** The caller's tools, and the servers whose tools they will see once they connect an account. */
  async catalog(
    orgId: string,
    user: User,
    channelId?: string,
    opts: { forModel?: boolean } = {},
  ): Promise<{ tools: CatalogTool[]; needsConnect: CatalogGap[] }> {
    const out: CatalogTool[] = [];
    const needsConnect: CatalogGap[] = [];
    const subject = { userId: user.id, role: user.role, teams: await this.policy.teams.ofUser(orgId, user.id) };
    for (const server of await this.policy.servers(orgId)) {
      const rules = await this.policy.rules(server.id);
      const approvals = opts.forModel ? await this.policy.approvals.of(server.id) : [];
      const { tools, connect, more } = await this.#tools(server, orgId, user.id, channelId);
      if (connect) needsConnect.push({ server: server.name, providerSlug: connect, ...(more ? { more } : {}) });
      for (const t of tools) {
        if (!visible(rules, subject, t.name)) continue;
        if (opts.forModel && approvalMode(approvals, t.name, t.annotations?.readOnlyHint === true).mode === 'never')
          continue;
        out.push({
          server: server.name,
          tool: t.name,
          description: t.description ?? '',
          inputSchema: t.inputSchema as Record<string, unknown>,
        });
      }
    }
    return { tools: out, needsConnect };
  }

  async #tools(
    server: McpServerRow,
    orgId: string,
    userId: string,
    channelId?: string,
  ): Promise<{ tools: Tool[]; connect?: string; more?: CatalogGap['more'] }> {
    const key = `${server.id}\u0000${userId}`;
    const res = await resolveCredentials(this.policy, this.tokens, server, {
      orgId,
      userId,
      ...(channelId ? { chat: { channelId } } : {}),
    });
    if (res.kind === 'ok') {
      const listed = await this.pool.tools(server, res.creds);
      if (listed.kind === 'ok') {
        if (this.#own.size >= 10_000 && !this.#own.has(key)) this.#own.clear();
        this.#own.set(key, listed.value);
        this.#stepUps.delete(key);
        return { tools: listed.value };
      }
      const slug = res.creds.grants[0];
      if (listed.kind === 'insufficient_scope' && slug) {
        await this.pool.discard(server, res.creds);
        const more = await this.#stepUp(key, orgId, userId, slug, listed.scopes);
        return { tools: this.#own.get(key) ?? [], connect: slug, more };
      }
    }
    const mine = this.#own.get(key);
    if (res.kind !== 'needs_connect') return { tools: mine ?? [] };
    if (mine) return { tools: mine, connect: res.providerSlug };
    // Never connected: what the server lists to anyone, asked with no credentials at all (http
    // only; a server that wants a token for tools/list shows nothing until the caller connects).
    // The agent needs these names to call a tool, which then parks and prompts to connect.
    if (server.transport === 'http') {
      const open = await this.pool.tools(server, { env: {}, headers: {} });
      if (open.kind === 'ok') return { tools: open.value, connect: res.providerSlug };
    }
    return { tools: [], connect: res.providerSlug };
  }

  /**
   * A 403 `insufficient_scope` of a listing: a link asking for `scopes` together with the grant (a
   * refresh cannot widen it), at most `maxStepUps` times in a row; then the rounds, without a link.
   */
  async #stepUp(key: string, orgId: string, userId: string, slug: string, scopes: string[]) {
    const now = Date.now();
    const seen = this.#stepUps.get(key);
    const fresh = !seen || now - seen.since > (this.o.stepUpMemoryMs ?? 15 * 60_000);
    const rounds = fresh ? 0 : seen.rounds;
    if (rounds >= (this.o.maxStepUps ?? 2)) return { scopes, rounds };
    if (this.#stepUps.size >= 10_000 && !seen) this.#stepUps.clear();
    this.#stepUps.set(key, { rounds: rounds + 1, since: fresh ? now : seen.since });
    const connectUrl = await this.tokens.connectLink(orgId, userId, slug, { extraScopes: scopes });
    return { scopes, rounds: rounds + 1, connectUrl };
  }

  /** Connects to a server as `user` and lists its tools: the admin's check that bindings work. */
  async testServer(orgId: string, name: string, user: User): Promise<ServerTest> {
    const server = await this.policy.server(orgId, name);
    if (!server) return { kind: 'unknown_server', server: name };
    const res = await resolveCredentials(this.policy, this.tokens, server, { orgId, userId: user.id });
    if (res.kind === 'needs_connect') return { kind: 'needs_connect', server: name, providerSlug: res.providerSlug };
    if (res.kind !== 'ok') return { kind: 'misconfigured', server: name, problem: res.problem };
    const listed = await this.pool.tools(server, res.creds);
    if (listed.kind !== 'ok')
      return {
        kind: 'unexpected',
        server: name,
        result: listed.kind,
        ...(listed.kind === 'unreachable' ? { detail: listed.detail } : {}),
      };
    return { kind: 'ok', server: name, tools: listed.value.map((t) => t.name) };
  }
}
