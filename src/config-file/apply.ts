import { asc, inArray } from 'drizzle-orm';
import { stringify } from 'yaml';
import type { Platform } from '../identity/index.js';
import type { LoadedFile } from './load.js';
import { planOrg, removals, type Step } from './plan.js';
import { readOrg, type ConfigServices, type OrgState } from './state.js';

/** The steps for one org: one the file declares (by its position), or one it no longer does (by id). */
export interface OrgPlan {
  title: string;
  org: { platform: Platform; workspace: string } | { orgId: string };
  steps: Step[];
}

/** Every `kind key` the file declares for an org. */
function declaredKeys(f: LoadedFile, i: number): Set<string> {
  const d = f.orgs[i]!;
  return new Set([
    ...(d.admins ?? []).map((a) => `admin ${a}`),
    ...(d.teams ?? []).map((t) => `team ${t.name}`),
    ...(d.providers ?? []).map((p) => `provider ${p.slug}`),
    ...(d.servers ?? []).map((s) => `server ${s.name}`),
    ...(d.rules ?? []).map((_r, j) => `rule #${j + 1}`),
    ...(d.approvals ?? []).map((a) => `approval ${a.server} ${a.tools}`),
  ]);
}

/** What applying the file would change, org by org (nothing is changed). */
export async function planFile(svc: ConfigServices, f: LoadedFile): Promise<OrgPlan[]> {
  const all = await svc.policy.declared.list();
  const plans: OrgPlan[] = [];
  const seen = new Set<string>();
  for (const [i, d] of f.orgs.entries()) {
    const st: OrgState = await readOrg(svc, d.platform, d.workspace);
    const owned = all.filter((o) => o.orgId === st.orgId);
    if (st.orgId) seen.add(st.orgId);
    const ahead = await planOrg(svc, f, i, st, owned);
    plans.push({
      title: `${d.platform} ${d.workspace}`,
      org: { platform: d.platform, workspace: d.workspace },
      steps: [...removals(svc, owned, declaredKeys(f, i)), ...ahead],
    });
  }
  const gone = [...new Set(all.map((o) => o.orgId))].filter((id) => !seen.has(id));
  const o = svc.store.t.orgs;
  const names = gone.length ? await svc.store.rows(svc.store.db.select().from(o).where(inArray(o.id, gone))) : [];
  for (const org of names)
    plans.push({
      title: `org ${org.name} (no longer in the file)`,
      org: { orgId: org.id },
      steps: removals(
        svc,
        all.filter((x) => x.orgId === org.id),
        new Set(),
      ),
    });
  return plans;
}

const OPS = { '+': 'create', '~': 'change', '-': 'remove' } as const;

/** Runs the plan; each object made or changed is recorded as the file's. Stops at the first refusal. */
export async function applyPlan(svc: ConfigServices, f: LoadedFile, plans: OrgPlan[]): Promise<void> {
  for (const p of plans) {
    if (!p.steps.length) continue;
    const site =
      'orgId' in p.org
        ? { orgId: p.org.orgId, platform: 'shell' as const, workspace: '', at: f.file }
        : { ...p.org, orgId: (await svc.identity.orgFor(p.org.platform, p.org.workspace)).id, at: f.file };
    for (const s of p.steps) {
      const owned = await s.run(site);
      if (s.op !== '-')
        await svc.policy.declared.own({ orgId: site.orgId, kind: s.kind, key: s.key, file: f.file, ...owned });
      await svc.audit.write({
        orgId: site.orgId,
        category: 'admin',
        action: `config.${s.kind}.${OPS[s.op]}`,
        decision: 'allowed',
        outcome: 'ok',
        detail: { file: f.file, key: s.key },
      });
    }
  }
}

/** The plan as the operator reads it: a line per change under its org (`+ server github`). */
export function planText(f: LoadedFile, plans: OrgPlan[]): string {
  const changing = plans.filter((p) => p.steps.length);
  if (!changing.length) return `${f.file}: no changes; the database matches the file.`;
  return changing.map((p) => [`${p.title}:`, ...p.steps.map((s) => `  ${s.op} ${s.label}`)].join('\n')).join('\n');
}

/** The configuration of every org as a config file (secrets as references, never values). */
export async function exportConfig(svc: ConfigServices): Promise<string> {
  const w = svc.store.t.workspaces;
  const rows = await svc.store.rows(svc.store.db.select().from(w).orderBy(asc(w.createdAt)));
  const orgs: Record<string, unknown>[] = [];
  const done = new Set<string>();
  for (const ws of rows) {
    // An org of several workspaces (an org join) is written once, under its first.
    if (done.has(ws.orgId)) continue;
    done.add(ws.orgId);
    const { decl } = await readOrg(svc, ws.platform, ws.workspaceId);
    orgs.push(Object.fromEntries(Object.entries(decl).filter(([, v]) => !Array.isArray(v) || v.length)));
  }
  return (
    '# onbehalf configuration (onbehalf config export). Client secrets are references: set each env: variable\n' +
    '# (or write each file:) before applying this file with ONBEHALF_CONFIG.\n' +
    stringify({ orgs }, { lineWidth: 0 })
  );
}
