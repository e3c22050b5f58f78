import type { DeclaredKind, DeclaredObject } from '../policy/index.js';
import type { LoadedFile } from './load.js';
import type { ProviderDecl, RuleDecl, ServerDecl, TeamDecl } from './schema.js';
import type { ConfigServices, OrgState } from './state.js';
import * as steps from './steps.js';
import type { Site } from './steps.js';

/** What one step records about the object it made (the row a rule became, a provider's declaration). */
export type Owned = Partial<Pick<DeclaredObject, 'objectId' | 'detail'>>;

/** One change of the plan: `+` create, `~` change (or take over from chat), `-` remove. */
export interface Step {
  op: '+' | '~' | '-';
  kind: DeclaredKind;
  key: string;
  /** What the plan prints after the sign: `server github`. */
  label: string;
  run(site: Site): Promise<Owned | void>;
}

/** JSON with sorted keys, so two equal objects compare equal whatever their key order. */
const canon = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b)))
      : x,
  );

const sorted = (xs: string[] | undefined) => [...(xs ?? [])].sort();

const normServer = (s: ServerDecl) =>
  canon({
    ...s,
    timeout_ms: s.timeout_ms ?? 30_000,
    private_results: s.private_results ?? false,
    ...(s.transport === 'stdio' ? { args: s.args ?? [] } : {}),
    bindings: Object.fromEntries(
      Object.entries(s.bindings ?? {}).map(([k, b]) => [k, typeof b === 'string' ? { source: b } : b]),
    ),
  });

const normRule = (r: RuleDecl) =>
  canon({
    effect: r.allow !== undefined ? 'allow' : 'deny',
    server: r.allow ?? r.deny,
    tools: r.tools,
    roles: sorted(r.roles),
    users: sorted(r.users),
    teams: sorted(r.teams),
    args: r.args ?? {},
    inject: r.inject ?? {},
    ignore_case: r.ignore_case ?? false,
  });

const normTeam = (t: TeamDecl) => canon({ name: t.name, members: sorted(t.members) });

/** `allow github list_* roles member`. */
export function ruleLabel(r: RuleDecl): string {
  const who = [
    r.roles?.length ? `roles ${r.roles.join(',')}` : '',
    r.users?.length ? `users ${r.users.join(',')}` : '',
    r.teams?.length ? `teams ${r.teams.join(',')}` : '',
  ].filter(Boolean);
  return [r.allow !== undefined ? `allow ${r.allow}` : `deny ${r.deny}`, r.tools, ...who].join(' ');
}

const TAKEN = ' (made in chat; from now on owned by the file)';

/** Steps for one kind of named object: create what is missing, change what differs, take over what chat made. */
function named<T>(
  kind: DeclaredKind,
  want: T[],
  have: T[],
  o: {
    key: (x: T) => string;
    same: (a: T, b: T) => boolean;
    owned: Set<string>;
    put: (x: T, site: Site) => Promise<Owned | void>;
  },
): Step[] {
  return want.flatMap((w): Step[] => {
    const key = o.key(w);
    const cur = have.find((h) => o.key(h) === key);
    const run = (site: Site) => o.put(w, site);
    if (!cur) return [{ op: '+', kind, key, label: `${kind} ${key}`, run }];
    if (o.same(w, cur) && o.owned.has(key)) return [];
    return [{ op: '~', kind, key, label: `${kind} ${key}${o.owned.has(key) ? '' : TAKEN}`, run }];
  });
}

/** The steps that bring one declared org to what the file says (removals come from `removals`). */
export async function planOrg(svc: ConfigServices, f: LoadedFile, i: number, st: OrgState, owned: DeclaredObject[]) {
  const d = f.orgs[i]!;
  const mine = (k: DeclaredKind) => new Set(owned.filter((o) => o.kind === k).map((o) => o.key));
  const at = (...p: (string | number)[]) => f.at(['orgs', i, ...p]);
  const withAt =
    <T>(list: T[], name: string, fn: (x: T, site: Site) => Promise<Owned | void>) =>
    (x: T, site: Site) =>
      fn(x, { ...site, at: at(name, list.indexOf(x)) });
  const specOf = new Map(owned.filter((o) => o.kind === 'provider').map((o) => [o.key, canon(o.detail.spec)]));
  const secretSame = async (p: ProviderDecl) => {
    const row = st.orgId ? await svc.providers.get(st.orgId, p.slug) : undefined;
    const now = row ? svc.providers.clientSecret(row)?.reveal() : undefined;
    return now === (p.client_secret ? f.secret(p.client_secret).reveal() : undefined);
  };
  const providersSame = new Map<string, boolean>();
  for (const p of d.providers ?? [])
    providersSame.set(p.slug, specOf.get(p.slug) === canon(p) && (await secretSame(p)));
  const admins = d.admins ?? [];
  const teams = d.teams ?? [];
  const providers = d.providers ?? [];
  const servers = d.servers ?? [];
  const approvals = d.approvals ?? [];
  return [
    ...named('admin', admins, st.decl.admins, {
      key: (a) => a,
      same: () => true,
      owned: mine('admin'),
      put: withAt(admins, 'admins', async (a, site) => ({ objectId: await steps.makeAdmin(svc, site, a) })),
    }),
    ...named('team', teams, st.decl.teams, {
      key: (t) => t.name,
      same: (a, b) => normTeam(a) === normTeam(b),
      owned: mine('team'),
      put: withAt(teams, 'teams', (t, site) => steps.putTeam(svc, site, t)),
    }),
    ...named('provider', providers, st.decl.providers, {
      key: (p) => p.slug,
      same: (p) => providersSame.get(p.slug) ?? false,
      owned: mine('provider'),
      put: withAt(providers, 'providers', async (p, site) => {
        await steps.putProvider(svc, site, p, f.secret);
        return { detail: { spec: p, ...(p.client_secret ? { secretRef: p.client_secret } : {}) } };
      }),
    }),
    ...named('server', servers, st.decl.servers, {
      key: (s) => s.name,
      same: (a, b) => normServer(a) === normServer(b),
      owned: mine('server'),
      put: withAt(servers, 'servers', (s, site) => steps.putServer(svc, site, s)),
    }),
    ...planRules(svc, f, i, st, owned),
    ...named('approval', approvals, st.decl.approvals, {
      key: (a) => `${a.server} ${a.tools}`,
      same: (a, b) => a.mode === b.mode,
      owned: mine('approval'),
      put: withAt(approvals, 'approvals', (a, site) => steps.putApproval(svc, site, a)),
    }),
  ];
}

/**
 * Rules have no name: the file's n-th rule of an org is `rule #n`. One the file owned and changed
 * is replaced; a new one takes over an identical rule made in chat rather than adding a twin.
 */
function planRules(svc: ConfigServices, f: LoadedFile, i: number, st: OrgState, owned: DeclaredObject[]): Step[] {
  const ownedRules = new Map(owned.filter((o) => o.kind === 'rule').map((o) => [o.key, o.objectId]));
  const claimed = new Set(ownedRules.values());
  const current = new Map(st.ruleIds.map((id, j) => [id, normRule(st.decl.rules[j]!)]));
  return (f.orgs[i]!.rules ?? []).flatMap((r, j): Step[] => {
    const key = `#${j + 1}`;
    const label = `rule ${key}: ${ruleLabel(r)}`;
    const site = (s: Site) => ({ ...s, at: f.at(['orgs', i, 'rules', j]) });
    const was = ownedRules.get(key);
    if (was && current.get(was) === normRule(r)) return [];
    const replace = async (s: Site): Promise<Owned> => {
      if (was) await svc.policy.removeRule(s.orgId, was);
      return { objectId: await steps.addRule(svc, site(s), r) };
    };
    if (was) return [{ op: '~', kind: 'rule', key, label, run: replace }];
    const twin = [...current].find(([id, n]) => n === normRule(r) && !claimed.has(id))?.[0];
    if (!twin) return [{ op: '+', kind: 'rule', key, label, run: replace }];
    claimed.add(twin);
    return [{ op: '~', kind: 'rule', key, label: label + TAKEN, run: async () => ({ objectId: twin }) }];
  });
}

/** What the file owned in an org and no longer declares: removed, in the reverse order of creation. */
export function removals(svc: ConfigServices, owned: DeclaredObject[], keep: Set<string>): Step[] {
  const order: DeclaredKind[] = ['approval', 'rule', 'server', 'provider', 'team', 'admin'];
  return owned
    .filter((o) => !keep.has(`${o.kind} ${o.key}`))
    .sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind))
    .map((o) => ({
      op: '-' as const,
      kind: o.kind,
      key: o.key,
      label: `${o.kind} ${o.key}`,
      run: () => steps.removeOwned(svc, o),
    }));
}
