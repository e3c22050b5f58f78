import { eq, sql } from 'drizzle-orm';
import { configCache, newId, prepared, type ConfigSeen, type Store } from '../db/index.js';
import type { approvalRules } from '../db/schema/index.js';
import { globMatch } from './rules.js';

/** `ask`: the model's call waits for the caller; `always`: it runs without asking; `never`: the model may not call it. */
export type ApprovalMode = 'ask' | 'always' | 'never';
export const approvalModes: readonly ApprovalMode[] = ['ask', 'always', 'never'];

export type ApprovalRule = typeof approvalRules.$inferSelect;

/** A server's approval rules, read for every call an agent makes (db/prepared.ts). */
const approvalRulesOf = prepared('approvals.of', ({ db, t }) =>
  db
    .select()
    .from(t.approvalRules)
    .where(eq(t.approvalRules.serverId, sql.placeholder('serverId'))),
);

/** How a mode was decided: an admin's rule (its glob), or the default from the tool's `readOnlyHint`. */
export type ApprovalDecision = { mode: ApprovalMode; rule: string | null };

/** Literal characters of a glob: an exact name beats `delete_*`, which beats `*`. */
export const specificity = (glob: string) =>
  /[*?]/.test(glob) ? glob.replace(/[*?]/g, '').length : 10_000 + glob.length;

/**
 * The approval mode of one tool. The most specific matching glob wins (an exact name, then the
 * glob with the most literal characters); between equally specific globs, the one set last. No
 * rule: `always` for a tool that declares `readOnlyHint: true`, `ask` for every other tool.
 */
export function approvalMode(rules: readonly ApprovalRule[], tool: string, readOnly: boolean): ApprovalDecision {
  let best: ApprovalRule | undefined;
  for (const r of rules) {
    if (!globMatch(r.tools, tool)) continue;
    if (
      !best ||
      specificity(r.tools) > specificity(best.tools) ||
      (specificity(r.tools) === specificity(best.tools) && r.updatedAt >= best.updatedAt)
    )
      best = r;
  }
  return best ? { mode: best.mode, rule: best.tools } : { mode: readOnly ? 'always' : 'ask', rule: null };
}

/** The `approval_rules` of each server (`admin approve <server> <tool-glob> ask|always|never`). */
export class ApprovalRules {
  constructor(private readonly store: Store) {}

  /** Sets the mode of one glob of one server; setting the same glob again replaces it. */
  async set(orgId: string, serverId: string, tools: string, mode: ApprovalMode): Promise<void> {
    const updatedAt = Date.now();
    const a = this.store.t.approvalRules;
    await this.store.changes(
      this.store.db
        .insert(a)
        .values({ id: newId(), orgId, serverId, tools, mode, updatedAt })
        .onConflictDoUpdate({ target: [a.serverId, a.tools], set: { mode, updatedAt } }),
    );
  }

  /** A server's rules (`seen`: a call's configuration version, a copy at least that new may answer). */
  async of(serverId: string, seen?: ConfigSeen): Promise<readonly ApprovalRule[]> {
    return configCache(this.store).read(`approvals:${serverId}`, seen, () =>
      this.store.rows(approvalRulesOf, { serverId }),
    );
  }
}
