import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import { newId } from '../db/index.js';
import { approvalModes, specificity, type ApprovalMode } from './approvals.js';
import { normaliseValue } from './args.js';
import { orgUser, type PolicyParts } from './parts.js';
import { changed, invalid, refused, type PolicyResult } from './results.js';
import { describeRule, normaliseGlob } from './rules.js';
import { injectTemplateSchema } from './sources.js';
import { addCoded, type InputIssueCode } from './input.js';

const argNameSchema = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'arg_name' satisfies InputIssueCode);

/** An argument glob: no control characters, percent-encoding or `.`/`..` segments (values holding them are refused, so such a glob could never match). */
const globSchema = z
  .string()
  .min(1)
  .max(200)
  .superRefine((g, ctx) => {
    const n = normaliseValue(g.replace(/[*?]/g, 'x'));
    if (!n.ok) addCoded(ctx, 'glob', { why: n.code });
  });

export const ruleInputSchema = z.object({
  tools: z.string().min(1).max(200),
  roles: z
    .array(z.string())
    .refine((rs) => rs.every((r) => r === 'admin' || r === 'member'), 'roles' satisfies InputIssueCode)
    .optional(),
  users: z.array(z.string().min(1)).optional(),
  teams: z.array(z.string().min(1)).optional(),
  args: z.record(argNameSchema, globSchema).optional(),
  inject: z.record(argNameSchema, injectTemplateSchema).optional(),
  ignoreCase: z.boolean().optional(),
});
export type RuleInput = z.input<typeof ruleInputSchema>;

/** Adds an allow or deny rule. Users are user ids; teams are names or ids. */
export async function addRule(
  p: PolicyParts,
  orgId: string,
  effect: 'allow' | 'deny',
  serverName: string,
  input: RuleInput,
): Promise<PolicyResult> {
  const s = await p.server(orgId, serverName);
  if (!s) return refused({ kind: 'unknown_server', name: serverName });
  // The schema would silently drop an own `__proto__` key; refuse it instead.
  if ([input.args, input.inject].some((o) => o && Object.hasOwn(o, '__proto__')))
    return refused({ kind: 'proto_argument' });
  const r = ruleInputSchema.safeParse(input);
  if (!r.success) return invalid('rule', r.error);
  const { tools, roles, users: us, teams: ts, args, inject, ignoreCase } = r.data;
  for (const u of us ?? [])
    if (!(await orgUser(p.store, orgId, u))) return refused({ kind: 'rule_unknown_user', user: u });
  const teamIds: string[] = [];
  for (const t of ts ?? []) {
    const team = await p.teams.find(orgId, t);
    if (!team) return refused({ kind: 'rule_unknown_team', team: t });
    teamIds.push(team.id);
  }
  if (effect === 'deny' && inject && Object.keys(inject).length) return refused({ kind: 'deny_injects' });
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
  await p.store.changes(p.store.db.insert(p.store.t.accessRules).values(row));
  return changed({ kind: 'rule_added', rule: describeRule(row, s.name), inject: row.inject, id: row.id });
}

/** Sets whether the model's calls of a server's tools matching `glob` ask the caller first, always run, or never run. */
export async function setApproval(
  p: PolicyParts,
  orgId: string,
  serverName: string,
  glob: string,
  mode: string,
): Promise<PolicyResult> {
  const s = await p.server(orgId, serverName);
  if (!s) return refused({ kind: 'unknown_server', name: serverName });
  if (!/^[A-Za-z0-9_.\-/*?]{1,200}$/.test(glob)) return refused({ kind: 'bad_tool_glob' });
  if (!approvalModes.includes(mode as ApprovalMode)) return refused({ kind: 'bad_approval_mode', mode });
  await p.approvals.set(orgId, s.id, glob, mode as ApprovalMode);
  return changed({ kind: 'approval_set', server: serverName, glob, mode: mode as ApprovalMode });
}

/** A server's approval rules, the most specific glob first. */
export async function approvalRules(p: PolicyParts, orgId: string, serverName: string): Promise<PolicyResult> {
  const s = await p.server(orgId, serverName);
  if (!s) return refused({ kind: 'unknown_server', name: serverName });
  const rules = [...(await p.approvals.of(s.id))]
    .sort((x, y) => specificity(y.tools) - specificity(x.tools) || y.updatedAt - x.updatedAt)
    .map((r) => ({ tools: r.tools, mode: r.mode }));
  return changed({ kind: 'approval_rules', server: serverName, rules });
}

/** Removes one access rule by id (scoped to the org). */
export async function removeRule(p: PolicyParts, orgId: string, id: string): Promise<boolean> {
  const r = p.store.t.accessRules;
  return (await p.store.changes(p.store.db.delete(r).where(and(eq(r.orgId, orgId), eq(r.id, id))))) > 0;
}

/** Removes the approval rule of one glob of a server. */
export async function removeApproval(
  p: PolicyParts,
  orgId: string,
  serverName: string,
  glob: string,
): Promise<PolicyResult> {
  const s = await p.server(orgId, serverName);
  if (!s) return refused({ kind: 'unknown_server', name: serverName });
  const a = p.store.t.approvalRules;
  await p.store.changes(p.store.db.delete(a).where(and(eq(a.serverId, s.id), eq(a.tools, glob))));
  return changed({ kind: 'approval_removed', server: serverName, glob });
}
