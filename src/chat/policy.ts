import type { ServerTest as ServerTestValue, ToolCatalog } from '../agent/catalog.js';
import type { Policy } from '../policy/index.js';
import type { ChatPolicy, ServerTest } from './services.js';
import { unreachableText } from './words/net.js';
import { problemText } from './words/problems.js';

/** An admin's server test, in words. */
export function serverTestText(r: ServerTestValue): ServerTest {
  const name = r.server;
  switch (r.kind) {
    case 'ok':
      return {
        ok: true,
        message: `${name} answered as you with ${r.tools.length} tool(s): ${r.tools.join(', ')}.`,
      };
    case 'unknown_server':
      return { ok: false, error: `There is no server named ${name}.` };
    case 'needs_connect':
      return {
        ok: false,
        error: `${name} needs your ${r.providerSlug} account first: /onbehalf connect ${r.providerSlug}`,
      };
    case 'misconfigured':
      return { ok: false, error: `${name}: ${problemText(r.problem)}.` };
    case 'unexpected':
      return {
        ok: false,
        error: `${name} did not answer as expected (${r.result}${r.detail ? `: ${unreachableText(r.detail)}` : ''}).`,
      };
  }
}

/** The chat core's `ChatPolicy`: the policy store plus catalogs and server tests. */
export function chatPolicy(policy: Policy, catalog: ToolCatalog): ChatPolicy {
  return {
    addServer: (o, i) => policy.addServer(o, i as Parameters<Policy['addServer']>[1]),
    listServers: (o) => policy.listServers(o),
    server: (o, n) => policy.server(o, n),
    removeServer: (o, n) => policy.removeServer(o, n),
    setServer: (o, n, set) => policy.setServer(o, n, set),
    testServer: async (o, n, u) => serverTestText(await catalog.testServer(o, n, u)),
    bind: (o, s, t, n, src, tpl) => policy.bind(o, s, t, n, src, tpl),
    rule: (o, e, s, i) => policy.rule(o, e, s, i),
    setSecret: (o, sc, ow, n, v) => policy.setSecret(o, sc, ow, n, v),
    listSecrets: (o, sc) => policy.listSecrets(o, sc),
    deleteSecret: (o, sc, ow, n) => policy.deleteSecret(o, sc, ow, n),
    team: (o, a, n, arg) => policy.team(o, a, n, arg),
    catalogFor: (o, u, c) => catalog.catalogFor(o, u, c),
    catalog: (o, u, c) => catalog.catalog(o, u, c),
    approve: (o, s, g, m) => policy.approve(o, s, g, m),
    approvalRules: (o, s) => policy.approvalRules(o, s),
    ownerOf: (o, k, key) => policy.declared.ownerOf(o, k, key),
  };
}
