import { and, eq } from 'drizzle-orm';
import type { z } from 'zod';
import { newId } from '../db/index.js';
import { refusalOf } from '../net/index.js';
import type { PolicyParts } from './parts.js';
import { changed, invalid, refused, type PolicyResult } from './results.js';
import { DEFAULT_TIMEOUT_MS, serverInputSchema, type ServerInput, type ServerListing } from './servers.js';
import { envNameSchema, headerNameSchema, parseSource, templateSchema } from './sources.js';

type ParsedServer = z.output<typeof serverInputSchema>;

/** The input checked for `from`: stdio only from operator config or with ONBEHALF_ALLOW_STDIO=true; an admin's URL must pass the network guard. */
async function checked(
  p: PolicyParts,
  input: ServerInput,
  from: { source: 'admin' | 'operator' },
): Promise<{ ok: true; s: ParsedServer } | { ok: false; result: PolicyResult }> {
  const parsed = serverInputSchema.safeParse(input);
  if (!parsed.success) return { ok: false, result: invalid('server', parsed.error) };
  const s = parsed.data;
  if (s.transport === 'stdio' && from.source !== 'operator' && !p.allowStdio)
    return { ok: false, result: refused({ kind: 'stdio_not_allowed' }) };
  if (s.transport === 'http' && from.source !== 'operator') {
    const c = await p.net.checkTarget(s.url);
    if (!c.ok) return { ok: false, result: refused({ kind: 'url_refused', refusal: refusalOf(c) }) };
  }
  return { ok: true, s };
}

/** The columns of a server's target and timeout, as stored. */
const targetOf = (s: ParsedServer, source: 'admin' | 'operator') => ({
  transport: s.transport,
  url: s.transport === 'http' ? s.url : null,
  command: s.transport === 'stdio' ? s.command : null,
  args: s.transport === 'stdio' ? s.args : [],
  timeoutMs: s.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  source,
});

/** Adds a server. stdio only from operator config or with ONBEHALF_ALLOW_STDIO=true. */
export async function addServer(
  p: PolicyParts,
  orgId: string,
  input: ServerInput,
  from: { source: 'admin' | 'operator' },
): Promise<PolicyResult> {
  const c = await checked(p, input, from);
  if (!c.ok) return c.result;
  const { s } = c;
  const { db, t } = p.store;
  // A conditional insert (the org's server names are unique): of two concurrent adds of a name, one is refused.
  const added = await p.store.changes(
    db
      .insert(t.mcpServers)
      .values({ id: newId(), orgId, name: s.name, ...targetOf(s, from.source) })
      .onConflictDoNothing(),
  );
  if (!added) return refused({ kind: 'server_exists', name: s.name });
  return changed({ kind: 'server_added', name: s.name, transport: s.transport });
}

/** Changes a server's transport, target and timeout to `input` (the operator's config file; the name stays). */
export async function updateServer(
  p: PolicyParts,
  orgId: string,
  input: ServerInput,
  from: { source: 'admin' | 'operator' },
): Promise<PolicyResult> {
  const c = await checked(p, input, from);
  if (!c.ok) return c.result;
  const { s } = c;
  const row = await p.server(orgId, s.name);
  if (!row) return refused({ kind: 'unknown_server', name: s.name });
  const { mcpServers } = p.store.t;
  await p.store.changes(p.store.db.update(mcpServers).set(targetOf(s, from.source)).where(eq(mcpServers.id, row.id)));
  return changed({ kind: 'server_changed', name: s.name, transport: s.transport });
}

/** Every server of an org with its target and bindings, for the admin's list. */
export async function listServers(p: PolicyParts, orgId: string): Promise<ServerListing[]> {
  const { mcpServers } = p.store.t;
  const all = await p.store.rows(p.store.db.select().from(mcpServers).where(eq(mcpServers.orgId, orgId)));
  return Promise.all(
    all.map(async (s) => ({
      name: s.name,
      transport: s.transport,
      target: s.transport === 'http' ? s.url! : [s.command!, ...s.args].join(' '),
      privateResults: s.privateResults,
      bindings: (await p.bindings(s.id)).map(
        (b) => `${b.target} ${b.name}=${b.source.startsWith('static:') ? 'static' : b.source}`,
      ),
    })),
  );
}

/** Changes a server's settings: whether results obtained with the caller's own grant go to the caller only. */
export async function setServer(
  p: PolicyParts,
  orgId: string,
  name: string,
  set: { privateResults: boolean },
): Promise<PolicyResult> {
  const s = await p.server(orgId, name);
  if (!s) return refused({ kind: 'unknown_server', name });
  const { mcpServers } = p.store.t;
  await p.store.changes(
    p.store.db.update(mcpServers).set({ privateResults: set.privateResults }).where(eq(mcpServers.id, s.id)),
  );
  return changed({ kind: 'server_updated', name, privateResults: set.privateResults });
}

/** Removes a server with its bindings and rules. */
export async function removeServer(p: PolicyParts, orgId: string, name: string): Promise<PolicyResult> {
  const s = await p.server(orgId, name);
  if (!s) return refused({ kind: 'unknown_server', name });
  const { mcpServers } = p.store.t;
  await p.store.changes(p.store.db.delete(mcpServers).where(eq(mcpServers.id, s.id)));
  return changed({ kind: 'server_removed', name });
}

/** Binds one env var (stdio) or header (http) of a server to a credential source. */
export async function bind(
  p: PolicyParts,
  orgId: string,
  b: { server: string; target: 'env' | 'header'; name: string; source: string; template?: string | undefined },
): Promise<PolicyResult> {
  const { target, name, source, template } = b;
  const s = await p.server(orgId, b.server);
  if (!s) return refused({ kind: 'unknown_server', name: b.server });
  if ((s.transport === 'stdio') !== (target === 'env'))
    return refused({ kind: 'wrong_bind_target', server: b.server, transport: s.transport });
  const n = (target === 'env' ? envNameSchema : headerNameSchema).safeParse(name);
  if (!n.success) return invalid('binding', n.error);
  const src = parseSource(source);
  if (!src.ok) return invalid('binding', src.error);
  if (template !== undefined) {
    const t = templateSchema.safeParse(template);
    if (!t.success) return invalid('binding', t.error);
  }
  if (src.source.kind === 'mcp_oauth' && s.transport !== 'http') return refused({ kind: 'mcp_oauth_needs_http' });
  const { credentialBindings: cb } = p.store.t;
  await p.store.changes(
    p.store.db
      .insert(cb)
      .values({ id: newId(), orgId, serverId: s.id, target, name, source, template: template ?? null })
      .onConflictDoUpdate({ target: [cb.serverId, cb.target, cb.name], set: { source, template: template ?? null } }),
  );
  const shown = src.source.kind === 'static' ? null : source;
  return changed({ kind: 'bound', server: b.server, target, name, source: shown, ...(template ? { template } : {}) });
}

/** Removes one binding of a server (its env var or header then gets no value). */
export async function unbind(
  p: PolicyParts,
  orgId: string,
  b: { server: string; target: 'env' | 'header'; name: string },
): Promise<PolicyResult> {
  const s = await p.server(orgId, b.server);
  if (!s) return refused({ kind: 'unknown_server', name: b.server });
  const { credentialBindings: cb } = p.store.t;
  await p.store.changes(
    p.store.db.delete(cb).where(and(eq(cb.serverId, s.id), eq(cb.target, b.target), eq(cb.name, b.name))),
  );
  return changed({ kind: 'unbound', server: b.server, target: b.target, name: b.name });
}
