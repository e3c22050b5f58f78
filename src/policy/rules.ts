import { fillContext, type ContextPlaceholder } from './sources.js';

/** One access rule as stored (see `access_rules`). */
export interface AccessRule {
  id: string;
  effect: 'allow' | 'deny';
  tools: string;
  subjects: { roles?: string[]; users?: string[]; teams?: string[] };
  argConstraints: Record<string, string>;
  inject: Record<string, string>;
}

/** Who is asking, as rules see it (ids and names from our own tables, never from arguments). */
export interface Subject {
  userId: string;
  role: string;
  /** Team ids and names the user belongs to. */
  teams: { id: string; name: string }[];
}

/** The outcome of checking a call against the rules. */
export type Decision =
  | { kind: 'allowed'; args: Record<string, unknown>; rule: string | null }
  | { kind: 'denied'; rule: string; reason: string };

/** `*` matches any run of characters (including `/`), `?` one character; the whole value must match. */
export function globMatch(glob: string, value: string): boolean {
  const re = new RegExp('^' + glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$', 's');
  return re.test(value);
}

/** A rule in words, for denials: `deny notes "delete_*" for roles member`. */
export function describeRule(r: AccessRule, server: string): string {
  const who = [
    r.subjects.roles?.length ? `roles ${r.subjects.roles.join(',')}` : '',
    r.subjects.users?.length ? `users ${r.subjects.users.join(',')}` : '',
    r.subjects.teams?.length ? `teams ${r.subjects.teams.join(',')}` : '',
  ].filter(Boolean);
  const args = Object.entries(r.argConstraints).map(([k, g]) => `${k}=${g}`);
  return `${r.effect} ${server} "${r.tools}"${who.length ? ` for ${who.join('; ')}` : ' for everyone'}${args.length ? ` with ${args.join(', ')}` : ''}`;
}

function appliesTo(r: AccessRule, s: Subject): boolean {
  const { roles = [], users = [], teams = [] } = r.subjects;
  if (!roles.length && !users.length && !teams.length) return true;
  return roles.includes(s.role) || users.includes(s.userId) || s.teams.some((t) => teams.includes(t.id) || teams.includes(t.name));
}

const argString = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v ?? null));

function constraintsHold(r: AccessRule, args: Record<string, unknown>): string | undefined {
  for (const [name, glob] of Object.entries(r.argConstraints)) {
    if (!(name in args) || !globMatch(glob, argString(args[name]))) return `${name} must match ${glob}`;
  }
  return undefined;
}

/**
 * Checks one call. Deny rules win; if the server has allow rules, one must let this caller use
 * this tool with these arguments; with none, everyone may. Injected context overrides supplied
 * arguments before constraints are checked, so a caller cannot talk their way past an injection.
 */
export function decide(
  rules: AccessRule[], server: string, subject: Subject, tool: string, supplied: Record<string, unknown>, context: Record<ContextPlaceholder, string>,
): Decision {
  const mine = rules.filter((r) => appliesTo(r, subject) && globMatch(r.tools, tool));
  const args = { ...supplied };
  for (const r of mine) if (r.effect === 'allow') for (const [k, t] of Object.entries(r.inject)) args[k] = fillContext(t, context);

  for (const r of mine.filter((x) => x.effect === 'deny')) {
    const conditional = Object.keys(r.argConstraints).length > 0;
    if (!conditional || constraintsHold(r, args) === undefined) {
      return { kind: 'denied', rule: describeRule(r, server), reason: `denied by rule: ${describeRule(r, server)}` };
    }
  }
  const allows = rules.filter((r) => r.effect === 'allow');
  if (!allows.length) return { kind: 'allowed', args, rule: null };
  const mineAllow = mine.filter((r) => r.effect === 'allow');
  if (!mineAllow.length) {
    return { kind: 'denied', rule: `no allow rule of ${server}`, reason: `no allow rule of ${server} lets you use ${tool}` };
  }
  let failed: { rule: AccessRule; why: string } | undefined;
  for (const r of mineAllow) {
    const why = constraintsHold(r, args);
    if (why === undefined) return { kind: 'allowed', args, rule: describeRule(r, server) };
    failed ??= { rule: r, why };
  }
  return { kind: 'denied', rule: describeRule(failed!.rule, server), reason: `rule ${describeRule(failed!.rule, server)} requires ${failed!.why}` };
}

/** Whether a tool shows in the caller's catalog: not denied outright, and allowed by some rule (or no allow rules). */
export function visible(rules: AccessRule[], subject: Subject, tool: string): boolean {
  const mine = rules.filter((r) => appliesTo(r, subject) && globMatch(r.tools, tool));
  if (mine.some((r) => r.effect === 'deny' && Object.keys(r.argConstraints).length === 0)) return false;
  return !rules.some((r) => r.effect === 'allow') || mine.some((r) => r.effect === 'allow');
}
