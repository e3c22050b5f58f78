import { and, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Secret, Keyring } from '../crypto/index.js';
import { newId, type Db } from '../db/index.js';
import { NetGuard } from '../net/index.js';
import { accessRules, credentialBindings, mcpServers, users } from '../db/schema/index.js';
import { ApprovalRules, approvalModes, specificity, type ApprovalMode } from './approvals.js';
import { SecretStore, type SecretScope } from './secrets.js';
import { Teams } from './teams.js';
import { normaliseValue } from './args.js';
import { describeRule, normaliseGlob, type AccessRule } from './rules.js';
import { DEFAULT_TIMEOUT_MS, serverInputSchema, type McpServerRow, type ServerInput } from './servers.js';
import { envNameSchema, headerNameSchema, injectTemplateSchema, parseSource, templateSchema } from './sources.js';
import { isSecretName, isTeamName } from '../names.js';

/** A command's outcome as a value (the chat core's `Done`). */
export type Done = { ok: true; message: string } | { ok: false; error: string };
const ok = (message: string): Done => ({ ok: true, message });
const no = (error: string): Done => ({ ok: false, error });

export type BindingRow = typeof credentialBindings.$inferSelect;

/** Options for `Policy`. */
export interface PolicyOptions {
  /** Admins may add stdio servers (ONBEHALF_ALLOW_STDIO). Default false. */
  allowStdio?: boolean;
  /** The network guard an admin's http server URL must pass (ONBEHALF_ALLOW_PRIVATE_URLS). Default: one that refuses private addresses and plain http. */
  net?: NetGuard;
}

const argNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'an argument name is letters, digits, dots, dashes or underscores');

/** An argument glob: no control characters, percent-encoding or `.`/`..` segments (values holding them are refused, so such a glob could never match). */
const globSchema = z
  .string()
  .min(1)
  .max(200)
  .superRefine((g, ctx) => {
    const n = normaliseValue(g.replace(/[*?]/g, 'x'));
    if (!n.ok)
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `the glob ${n.why}; values like that are refused anyway` });
  });

const ruleInputSchema = z.object({
  tools: z.string().min(1).max(200),
  roles: z
    .array(z.string())
    .refine((rs) => rs.every((r) => r === 'admin' || r === 'member'), 'roles are admin or member')
    .optional(),
  users: z.array(z.string().min(1)).optional(),
  teams: z.array(z.string().min(1)).optional(),
  args: z.record(argNameSchema, globSchema).optional(),
  inject: z.record(argNameSchema, injectTemplateSchema).optional(),
  ignoreCase: z.boolean().optional(),
});

const firstIssue = (e: z.ZodError) => {
  const i = e.issues[0]!;
  return (i.path.length ? `${i.path.join('.')}: ` : '') + i.message;
};

/** MCP servers, credential bindings, access rules, secrets and teams of each org. */
export class Policy {
  readonly secrets: SecretStore;
  readonly teams: Teams;
  readonly approvals: ApprovalRules;
  // The tool-call path's lookups, prepared once.
  readonly #serverByName;
  readonly #serverById;
  readonly #bindings;
  readonly #rules;
  readonly #net: NetGuard;

  constructor(
    private readonly db: Db,
    keyring: Keyring,
    private readonly opts: PolicyOptions = {},
  ) {
    this.#net = opts.net ?? new NetGuard();
    this.secrets = new SecretStore(db, keyring);
    this.teams = new Teams(db);
    this.approvals = new ApprovalRules(db);
    const ph = sql.placeholder;
    this.#serverByName = db
      .select()
      .from(mcpServers)
      .where(and(eq(mcpServers.orgId, ph('orgId')), eq(mcpServers.name, ph('name'))))
      .prepare();
    this.#serverById = db
      .select()
      .from(mcpServers)
      .where(and(eq(mcpServers.orgId, ph('orgId')), eq(mcpServers.id, ph('id'))))
      .prepare();
    this.#bindings = db
      .select()
      .from(credentialBindings)
      .where(eq(credentialBindings.serverId, ph('serverId')))
      .prepare();
    this.#rules = db
      .select()
      .from(accessRules)
      .where(eq(accessRules.serverId, ph('serverId')))
      .prepare();
  }

  /** Adds a server. stdio only from operator config or with ONBEHALF_ALLOW_STDIO=true. */
  async addServer(
    orgId: string,
    input: ServerInput,
    from: { source: 'admin' | 'operator' } = { source: 'admin' },
  ): Promise<Done> {
    const parsed = serverInputSchema.safeParse(input);
    if (!parsed.success) return no(`Server not added: ${firstIssue(parsed.error)}.`);
    const s = parsed.data;
    if (s.transport === 'stdio' && from.source !== 'operator' && !this.opts.allowStdio) {
      return no(
        'Server not added: a stdio server runs a program on the worker host, so it can only come from operator config or when the operator sets ONBEHALF_ALLOW_STDIO=true.',
      );
    }
    if (s.transport === 'http' && from.source !== 'operator') {
      const c = await this.#net.checkTarget(s.url);
      if (!c.ok && c.code === 'private')
        return no(
          `Server not added: ${c.reason}; the operator can allow private addresses with ONBEHALF_ALLOW_PRIVATE_URLS=true.`,
        );
      if (!c.ok) return no(`Server not added: the URL ${c.reason}.`);
    }
    if (this.server(orgId, s.name)) return no(`Server not added: there is already a server named ${s.name}.`);
    this.db
      .insert(mcpServers)
      .values({
        id: newId(),
        orgId,
        name: s.name,
        transport: s.transport,
        url: s.transport === 'http' ? s.url : null,
        command: s.transport === 'stdio' ? s.command : null,
        args: s.transport === 'stdio' ? s.args : [],
        timeoutMs: s.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        source: from.source,
      })
      .run();
    return ok(`Added ${s.transport} server ${s.name}. Bind its credentials with /onbehalf admin bind ${s.name} …`);
  }

  /** A server by name. */
  server(orgId: string, name: string): McpServerRow | undefined {
    return this.#serverByName.get({ orgId, name });
  }

  /** A server by id (scoped to the org). */
  serverById(orgId: string, id: string): McpServerRow | undefined {
    return this.#serverById.get({ orgId, id });
  }

  servers(orgId: string): McpServerRow[] {
    return this.db.select().from(mcpServers).where(eq(mcpServers.orgId, orgId)).all();
  }

  async listServers(orgId: string): Promise<{ name: string; transport: string; target: string; bindings: string[] }[]> {
    return this.servers(orgId).map((s) => ({
      name: s.name,
      transport: s.transport,
      target: s.transport === 'http' ? s.url! : [s.command!, ...s.args].join(' '),
      bindings: this.bindings(s.id).map(
        (b) => `${b.target} ${b.name}=${b.source.startsWith('static:') ? 'static' : b.source}`,
      ),
    }));
  }

  async removeServer(orgId: string, name: string): Promise<Done> {
    const s = this.server(orgId, name);
    if (!s) return no(`There is no server named ${name}.`);
    this.db.delete(mcpServers).where(eq(mcpServers.id, s.id)).run();
    return ok(`Removed server ${name} with its bindings and rules.`);
  }

  /** Binds one env var (stdio) or header (http) of a server to a credential source. */
  async bind(
    orgId: string,
    serverName: string,
    target: 'env' | 'header',
    name: string,
    source: string,
    template?: string,
  ): Promise<Done> {
    const s = this.server(orgId, serverName);
    if (!s) return no(`There is no server named ${serverName}.`);
    if (s.transport === 'stdio' && target !== 'env')
      return no(`${serverName} is a stdio server: bind env variables, not headers.`);
    if (s.transport === 'http' && target !== 'header')
      return no(`${serverName} is an http server: bind headers, not env variables.`);
    const n = (target === 'env' ? envNameSchema : headerNameSchema).safeParse(name);
    if (!n.success) return no(`Not bound: ${firstIssue(n.error)}.`);
    const src = parseSource(source);
    if (!src.ok) return no(`Not bound: ${src.error}.`);
    if (template !== undefined) {
      const t = templateSchema.safeParse(template);
      if (!t.success) return no(`Not bound: ${firstIssue(t.error)}.`);
    }
    if (src.source.kind === 'mcp_oauth' && s.transport !== 'http')
      return no('Not bound: mcp_oauth works only for http servers (the MCP authorization spec is HTTP).');
    this.db
      .insert(credentialBindings)
      .values({ id: newId(), orgId, serverId: s.id, target, name, source, template: template ?? null })
      .onConflictDoUpdate({
        target: [credentialBindings.serverId, credentialBindings.target, credentialBindings.name],
        set: { source, template: template ?? null },
      })
      .run();
    const shown = src.source.kind === 'static' ? 'a static value' : source;
    return ok(`${serverName}: ${target} ${name} now comes from ${shown}${template ? ` as "${template}"` : ''}.`);
  }

  /** A server's bindings. */
  bindings(serverId: string): BindingRow[] {
    return this.#bindings.all({ serverId });
  }

  /** Adds an allow or deny rule. Users are user ids; teams are names or ids. */
  async rule(
    orgId: string,
    effect: 'allow' | 'deny',
    serverName: string,
    input: z.input<typeof ruleInputSchema>,
  ): Promise<Done> {
    const s = this.server(orgId, serverName);
    if (!s) return no(`There is no server named ${serverName}.`);
    // The schema would silently drop an own `__proto__` key; refuse it instead.
    if ([input.args, input.inject].some((o) => o && Object.hasOwn(o, '__proto__')))
      return no('Rule not added: an argument may not be named __proto__.');
    const r = ruleInputSchema.safeParse(input);
    if (!r.success) return no(`Rule not added: ${firstIssue(r.error)}.`);
    const { tools, roles, users: us, teams: ts, args, inject, ignoreCase } = r.data;
    for (const u of us ?? []) {
      if (
        !this.db
          .select()
          .from(users)
          .where(and(eq(users.orgId, orgId), eq(users.id, u)))
          .get()
      )
        return no(`Rule not added: no user ${u} in this org.`);
    }
    const teamIds: string[] = [];
    for (const t of ts ?? []) {
      const team = this.teams.find(orgId, t);
      if (!team) return no(`Rule not added: there is no team ${t}.`);
      teamIds.push(team.id);
    }
    if (effect === 'deny' && inject && Object.keys(inject).length)
      return no('Rule not added: only allow rules inject arguments.');
    const row = {
      id: newId(),
      orgId,
      serverId: s.id,
      effect,
      tools,
      subjects: {
        ...(roles?.length ? { roles } : {}),
        ...(us?.length ? { users: us } : {}),
        ...(teamIds.length ? { teams: teamIds } : {}),
      },
      argConstraints: Object.fromEntries(Object.entries(args ?? {}).map(([k, g]) => [k, normaliseGlob(g)])),
      inject: inject ?? {},
      ignoreCase: ignoreCase ?? false,
    };
    this.db.insert(accessRules).values(row).run();
    return ok(
      `Added rule: ${describeRule(row, s.name)}${
        Object.keys(row.inject).length
          ? `, injecting ${Object.entries(row.inject)
              .map(([k, v]) => `${k}=${v}`)
              .join(', ')}`
          : ''
      }.`,
    );
  }

  /** A server's rules. */
  rules(serverId: string): AccessRule[] {
    return this.#rules.all({ serverId });
  }

  /** Sets whether the model's calls of a server's tools matching `glob` ask the caller first, always run, or never run. */
  async approve(orgId: string, serverName: string, glob: string, mode: string): Promise<Done> {
    const s = this.server(orgId, serverName);
    if (!s) return no(`There is no server named ${serverName}.`);
    if (!/^[A-Za-z0-9_.\-/*?]{1,200}$/.test(glob))
      return no('The tool glob is tool-name characters with * and ?, e.g. delete_* or *.');
    if (!approvalModes.includes(mode as ApprovalMode))
      return no(`The mode must be ask, always or never (got "${mode}").`);
    this.approvals.set(orgId, s.id, glob, mode as ApprovalMode);
    const what = {
      ask: 'ask you before each call the model makes',
      always: 'run without asking',
      never: 'are never offered to the model (a typed run still works, under the access rules)',
    }[mode as ApprovalMode];
    return ok(`${serverName} tools matching ${glob} now ${what}.`);
  }

  /** A server's approval rules as lines, or why not. */
  async approvalRules(orgId: string, serverName: string): Promise<Done> {
    const s = this.server(orgId, serverName);
    if (!s) return no(`There is no server named ${serverName}.`);
    const rules = this.approvals
      .of(s.id)
      .sort((x, y) => specificity(y.tools) - specificity(x.tools) || y.updatedAt - x.updatedAt);
    return ok(
      rules.length
        ? [
            `Approval rules of ${serverName} (the most specific glob wins):`,
            ...rules.map((r) => `• ${r.tools}: ${r.mode}`),
          ].join('\n')
        : `${serverName} has no approval rules: the model's calls of read-only tools run, every other call asks first.`,
    );
  }

  /** Stores a secret. `owner`: the org id, a team name or id, or a user id. */
  async setSecret(orgId: string, scope: SecretScope, owner: string, name: string, value: Secret): Promise<Done> {
    const scopeId = this.#scopeId(orgId, scope, owner);
    if ('error' in scopeId) return no(scopeId.error);
    if (!isSecretName(name)) return no('The secret name must be 1–64 letters, digits, dots, dashes or underscores.');
    this.secrets.set(orgId, scope, scopeId.id, name, value);
    return ok(`Stored ${scope} secret ${name}. Its value is sealed and will not be shown again.`);
  }

  async listSecrets(
    orgId: string,
    scope?: SecretScope,
  ): Promise<{ scope: string; owner: string; name: string; updatedAt: number }[]> {
    return this.secrets.list(orgId, scope).map((s) => ({
      scope: s.scope,
      owner:
        s.scope === 'team'
          ? (this.teams.find(orgId, s.scopeId)?.name ?? s.scopeId)
          : s.scope === 'user'
            ? (this.db.select().from(users).where(eq(users.id, s.scopeId)).get()?.displayName ?? s.scopeId)
            : 'org',
      name: s.name,
      updatedAt: s.updatedAt,
    }));
  }

  async deleteSecret(orgId: string, scope: SecretScope, owner: string, name: string): Promise<Done> {
    const scopeId = this.#scopeId(orgId, scope, owner);
    if ('error' in scopeId) return no(scopeId.error);
    return this.secrets.delete(orgId, scope, scopeId.id, name)
      ? ok(`Deleted ${scope} secret ${name}.`)
      : no(`There is no ${scope} secret ${name}.`);
  }

  #scopeId(orgId: string, scope: SecretScope, owner: string): { id: string } | { error: string } {
    if (scope === 'org') return { id: orgId };
    if (scope === 'team') {
      const t = this.teams.find(orgId, owner);
      return t ? { id: t.id } : { error: `There is no team ${owner}.` };
    }
    const u = this.db
      .select()
      .from(users)
      .where(and(eq(users.orgId, orgId), eq(users.id, owner)))
      .get();
    return u ? { id: u.id } : { error: 'No such user in this org.' };
  }

  /** Team administration: create, add/remove a member (user id), bind a channel (`platform:channel`), list. */
  async team(
    orgId: string,
    action: 'create' | 'add' | 'remove' | 'channel' | 'list',
    name: string | undefined,
    arg?: string,
  ): Promise<Done> {
    if (action === 'list') {
      const all = this.teams.list(orgId);
      return ok(
        all.length
          ? [
              'Teams:',
              ...all.map(
                (t) =>
                  `• ${t.team.name}: ${t.members} member(s)${t.channels.length ? `, channels ${t.channels.join(', ')}` : ''}`,
              ),
            ].join('\n')
          : 'No teams yet.',
      );
    }
    if (!name) return no('Which team?');
    if (action === 'create') {
      if (!isTeamName(name)) return no('A team name is 1–40 letters, digits, dots, dashes or underscores.');
      return this.teams.create(orgId, name) ? ok(`Created team ${name}.`) : no(`There is already a team ${name}.`);
    }
    const team = this.teams.find(orgId, name);
    if (!team) return no(`There is no team ${name}.`);
    if (action === 'channel') {
      const m = arg?.match(/^(slack|discord|shell):(.+)$/);
      if (!m) return no('Which channel? Run the command in the channel to bind.');
      this.teams.bindChannel(orgId, team.id, m[1]!, m[2]!);
      return ok(`This channel now belongs to team ${name}: team secrets here come from ${name}.`);
    }
    const u = arg
      ? this.db
          .select()
          .from(users)
          .where(and(eq(users.orgId, orgId), eq(users.id, arg)))
          .get()
      : undefined;
    if (!u) return no('Which user?');
    if (action === 'add') {
      this.teams.addMember(orgId, team.id, u.id);
      return ok(`${u.displayName} is now in team ${name}.`);
    }
    return this.teams.removeMember(orgId, team.id, u.id)
      ? ok(`${u.displayName} left team ${name}.`)
      : no(`${u.displayName} is not in team ${name}.`);
  }
}
