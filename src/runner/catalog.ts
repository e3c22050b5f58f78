import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { CatalogTool, ChatPolicy } from '../chat/services.js';
import type { User } from '../identity/index.js';
import type { McpPool } from '../mcp/index.js';
import { approvalMode, resolveCredentials, visible, type McpServerRow, type Policy, type RunnerTokens } from '../policy/index.js';

/** The tools each caller may see, listed with their own credentials and filtered by access rules. */
export class ToolCatalog {
  constructor(
    private readonly policy: Policy,
    private readonly pool: McpPool,
    private readonly tokens: RunnerTokens,
  ) {}

  /**
   * The caller's catalog. A server whose grant the caller lacks shows its last known tools (calling one prompts).
   * `forModel`: the catalog offered to the model, without tools an admin set to `never` (`admin approve`).
   */
  async catalogFor(orgId: string, user: User, channelId?: string, opts: { forModel?: boolean } = {}): Promise<CatalogTool[]> {
    const out: CatalogTool[] = [];
    const subject = { userId: user.id, role: user.role, teams: this.policy.teams.ofUser(orgId, user.id) };
    for (const server of this.policy.servers(orgId)) {
      const rules = this.policy.rules(server.id);
      const approvals = opts.forModel ? this.policy.approvals.of(server.id) : [];
      const tools = await this.#tools(server, orgId, user.id, channelId);
      for (const t of tools) {
        if (!visible(rules, subject, t.name)) continue;
        if (opts.forModel && approvalMode(approvals, t.name, t.annotations?.readOnlyHint === true).mode === 'never') continue;
        out.push({ server: server.name, tool: t.name, description: t.description ?? '', inputSchema: t.inputSchema as Record<string, unknown> });
      }
    }
    return out;
  }

  async #tools(server: McpServerRow, orgId: string, userId: string, channelId?: string): Promise<Tool[]> {
    const res = await resolveCredentials(this.policy, this.tokens, server, { orgId, userId, ...(channelId ? { chat: { channelId } } : {}) });
    if (res.kind === 'ok') {
      const listed = await this.pool.tools(server, res.creds);
      if (listed.kind === 'ok') return listed.value;
    }
    return this.pool.lastCatalog(server.id) ?? [];
  }

  /** Connects to a server as `user` and lists its tools: the admin's check that bindings work. */
  async testServer(orgId: string, name: string, user: User): Promise<{ ok: true; message: string } | { ok: false; error: string }> {
    const server = this.policy.server(orgId, name);
    if (!server) return { ok: false, error: `There is no server named ${name}.` };
    const res = await resolveCredentials(this.policy, this.tokens, server, { orgId, userId: user.id });
    if (res.kind === 'needs_connect') return { ok: false, error: `${name} needs your ${res.providerSlug} account first: /onbehalf connect ${res.providerSlug}` };
    if (res.kind !== 'ok') return { ok: false, error: `${name}: ${res.message}.` };
    const listed = await this.pool.tools(server, res.creds);
    if (listed.kind !== 'ok') return { ok: false, error: `${name} did not answer as expected (${listed.kind === 'unreachable' ? `unreachable: ${listed.detail}` : listed.kind}).` };
    return { ok: true, message: `${name} answered as you with ${listed.value.length} tool(s): ${listed.value.map((t) => t.name).join(', ')}.` };
  }
}

/** The chat core's `ChatPolicy`: the policy store plus catalogs and server tests. */
export function chatPolicy(policy: Policy, catalog: ToolCatalog): ChatPolicy {
  return {
    addServer: (o, i) => policy.addServer(o, i as Parameters<Policy['addServer']>[1]),
    listServers: (o) => policy.listServers(o),
    removeServer: (o, n) => policy.removeServer(o, n),
    testServer: (o, n, u) => catalog.testServer(o, n, u),
    bind: (o, s, t, n, src, tpl) => policy.bind(o, s, t, n, src, tpl),
    rule: (o, e, s, i) => policy.rule(o, e, s, i),
    setSecret: (o, sc, ow, n, v) => policy.setSecret(o, sc, ow, n, v),
    listSecrets: (o, sc) => policy.listSecrets(o, sc),
    deleteSecret: (o, sc, ow, n) => policy.deleteSecret(o, sc, ow, n),
    team: (o, a, n, arg) => policy.team(o, a, n, arg),
    catalogFor: (o, u, c) => catalog.catalogFor(o, u, c),
    approve: (o, s, g, m) => policy.approve(o, s, g, m),
    approvalRules: (o, s) => policy.approvalRules(o, s),
  };
}
