import { compileGlob, fold, foldName, normaliseValue, protoKey } from './args.js';
import { fillContext, type ContextPlaceholder } from './sources.js';
import type { Problem } from '../db/schema/shapes.js';

/** One access rule as stored (see `access_rules`). */
export interface AccessRule {
  id: string;
  effect: 'allow' | 'deny';
  tools: string;
  subjects: { roles?: string[]; users?: string[]; teams?: string[] };
  argConstraints: Record<string, string>;
  inject: Record<string, string>;
  /** Allow rules: match argument globs ignoring case (deny rules always do). */
  ignoreCase?: boolean;
}

/** Who is asking, as rules see it (ids and names from our own tables, never from arguments). */
export interface Subject {
  userId: string;
  role: string;
  /** Team ids and names the user belongs to. */
  teams: readonly { id: string; name: string }[];
}

/** The outcome of checking a call against the rules. */
export type Decision =
  | { kind: 'allowed'; args: Record<string, unknown>; rule: string | null }
  /** `rule`: the deciding rule in admin syntax; null when no single rule decided (no allow rule, an argument check). */
  | { kind: 'denied'; rule: string | null; why: Problem };

const compiled = new Map<string, RegExp>();

/** A rule's glob, compiled once per (rule, glob, mode) and kept. */
function pattern(ruleId: string, glob: string, mode: 'segments' | 'names' | 'folded'): RegExp {
  const key = `${ruleId}\u0000${mode}\u0000${glob}`;
  let re = compiled.get(key);
  if (!re) {
    if (compiled.size >= 10_000) compiled.clear();
    const g = mode === 'names' ? glob : normaliseGlob(glob);
    re = compileGlob(mode === 'folded' ? fold(g) : g, mode === 'names' ? 'names' : 'segments');
    compiled.set(key, re);
  }
  return re;
}

/** A value glob in normal form (NFC, trimmed, single slashes, no trailing slash), as values are. */
export function normaliseGlob(glob: string): string {
  const g = glob
    .normalize('NFC')
    .trim()
    .replace(/\/{2,}/g, '/');
  return g.length > 1 && g.endsWith('/') ? g.slice(0, -1) : g;
}

/** Whether a (normalised) value matches a value glob per segment: `*` within a segment, `**` across, `?` one non-`/` character. */
export function globMatch(glob: string, value: string, opts: { ignoreCase?: boolean } = {}): boolean {
  if (!normaliseValue(value).ok) return false;
  return opts.ignoreCase ? pattern('', glob, 'folded').test(fold(value)) : pattern('', glob, 'segments').test(value);
}

const toolMatch = (r: AccessRule, tool: string) => pattern(r.id, r.tools, 'names').test(tool);

/** Allow rules match case-sensitively unless `ignoreCase`; deny rules always also match case- and compatibility-folded. */
function valueMatch(r: AccessRule, glob: string, value: string): boolean {
  if (r.effect === 'deny' || r.ignoreCase)
    return pattern(r.id, glob, 'segments').test(value) || pattern(r.id, glob, 'folded').test(fold(value));
  return pattern(r.id, glob, 'segments').test(value);
}

/** A rule in words, for denials: `deny notes "delete_*" for roles member`. */
export function describeRule(r: AccessRule, server: string): string {
  const who = [
    r.subjects.roles?.length ? `roles ${r.subjects.roles.join(',')}` : '',
    r.subjects.users?.length ? `users ${r.subjects.users.join(',')}` : '',
    r.subjects.teams?.length ? `teams ${r.subjects.teams.join(',')}` : '',
  ].filter(Boolean);
  const args = Object.entries(r.argConstraints).map(([k, g]) => `${k}=${g}`);
  if (args.length && r.ignoreCase && r.effect === 'allow') args.push('ignoring case');
  return `${r.effect} ${server} "${r.tools}"${who.length ? ` for ${who.join('; ')}` : ' for everyone'}${args.length ? ` with ${args.join(', ')}` : ''}`;
}

function appliesTo(r: AccessRule, s: Subject): boolean {
  const { roles = [], users = [], teams = [] } = r.subjects;
  if (!roles.length && !users.length && !teams.length) return true;
  return (
    roles.includes(s.role) ||
    users.includes(s.userId) ||
    s.teams.some((t) => teams.includes(t.id) || teams.includes(t.name))
  );
}

const kindOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** Which constraint of an allow rule fails for these (already normalised) arguments, or undefined when they hold. */
function constraintsHold(r: AccessRule, args: Record<string, unknown>): { name: string; glob: string } | undefined {
  for (const [name, glob] of Object.entries(r.argConstraints)) {
    const v = Object.hasOwn(args, name) ? args[name] : undefined;
    if (typeof v !== 'string' || !valueMatch(r, glob, v)) return { name, glob };
  }
  return undefined;
}

const set = (o: Record<string, unknown>, k: string, v: unknown) =>
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
const refused = (why: Problem): Decision => ({ kind: 'denied', rule: null, why });

/**
 * Checks one call. Deny rules win; if the server has allow rules, one must let this caller use
 * this tool with these arguments; with none, everyone may. Injected context overrides supplied
 * arguments before constraints are checked, so a caller cannot talk their way past an injection.
 *
 * Every argument a rule of this caller and tool constrains must be a string; it is normalised
 * (see `normaliseValue`) and the normalised value is what rules judge and what `args` carries to
 * the tool. Supplied names that differ from a constrained or injected name only by case,
 * separators or spacing, and `__proto__` anywhere, are refused.
 */
export function decide(
  rules: readonly AccessRule[],
  server: string,
  subject: Subject,
  tool: string,
  supplied: Record<string, unknown>,
  context: Record<ContextPlaceholder, string>,
): Decision {
  const mine = rules.filter((r) => appliesTo(r, subject) && toolMatch(r, tool));
  if (protoKey(supplied)) return refused({ code: 'proto_key' });
  const args: Record<string, unknown> = {};
  for (const k of Object.keys(supplied)) set(args, k, supplied[k]);
  for (const r of mine)
    if (r.effect === 'allow') for (const [k, t] of Object.entries(r.inject)) set(args, k, fillContext(t, context));
  return (
    lookAlike(mine, supplied, server) ??
    normaliseConstrained(mine, args, server) ??
    denyingRule(mine, args, server) ??
    allowDecision(rules, mine, server, tool, args)
  );
}

/** A supplied name that differs from a constrained or injected one only by case, separators or spacing. */
function lookAlike(mine: AccessRule[], supplied: Record<string, unknown>, server: string): Decision | undefined {
  const checkedBy = new Map<string, AccessRule>();
  for (const r of mine)
    for (const k of [...Object.keys(r.argConstraints), ...Object.keys(r.inject)])
      if (!checkedBy.has(k)) checkedBy.set(k, r);
  for (const k of Object.keys(supplied)) {
    for (const [name, r] of checkedBy) {
      if (k !== name && foldName(k) === foldName(name)) {
        return refused({ code: 'look_alike', arg: k, name, rule: describeRule(r, server) });
      }
    }
  }
  return undefined;
}

/** Puts every constrained argument in normal form (in `args`), or refuses one that is not a plain string. */
function normaliseConstrained(mine: AccessRule[], args: Record<string, unknown>, server: string) {
  for (const r of mine) {
    for (const name of Object.keys(r.argConstraints)) {
      if (!Object.hasOwn(args, name)) continue;
      const v = args[name];
      if (typeof v !== 'string')
        return refused({ code: 'not_string', name, got: kindOf(v), rule: describeRule(r, server) });
      const n = normaliseValue(v);
      if (!n.ok) return refused({ code: 'not_plain', name, why: n.code, rule: describeRule(r, server) });
      set(args, name, n.value);
    }
  }
  return undefined;
}

/** The first deny rule of this caller and tool whose constraints all hold (or that checks a missing argument). */
function denyingRule(mine: AccessRule[], args: Record<string, unknown>, server: string): Decision | undefined {
  for (const r of mine.filter((x) => x.effect === 'deny')) {
    const constrained = Object.entries(r.argConstraints);
    const missing = constrained.find(([name]) => !Object.hasOwn(args, name));
    if (constrained.length && missing)
      return refused({ code: 'missing_arg', name: missing[0], rule: describeRule(r, server) });
    if (constrained.every(([name, glob]) => valueMatch(r, glob, args[name] as string))) {
      return {
        kind: 'denied',
        rule: describeRule(r, server),
        why: { code: 'deny_rule', rule: describeRule(r, server) },
      };
    }
  }
  return undefined;
}

/** Allowed with no allow rules at all, or by one of this caller's allow rules whose constraints hold. */
function allowDecision(
  rules: readonly AccessRule[],
  mine: AccessRule[],
  server: string,
  tool: string,
  args: Record<string, unknown>,
): Decision {
  if (!rules.some((r) => r.effect === 'allow')) return { kind: 'allowed', args, rule: null };
  const mineAllow = mine.filter((r) => r.effect === 'allow');
  if (!mineAllow.length) {
    return {
      kind: 'denied',
      rule: null,
      why: { code: 'no_allow_rule', server, tool },
    };
  }
  let failed: { rule: AccessRule; why: { name: string; glob: string } } | undefined;
  for (const r of mineAllow) {
    const why = constraintsHold(r, args);
    if (why === undefined) return { kind: 'allowed', args, rule: describeRule(r, server) };
    failed ??= { rule: r, why };
  }
  return {
    kind: 'denied',
    rule: describeRule(failed!.rule, server),
    why: { code: 'requires', rule: describeRule(failed!.rule, server), ...failed!.why },
  };
}

/** Whether a tool shows in the caller's catalog: not denied outright, and allowed by some rule (or no allow rules). */
export function visible(rules: readonly AccessRule[], subject: Subject, tool: string): boolean {
  const mine = rules.filter((r) => appliesTo(r, subject) && toolMatch(r, tool));
  if (mine.some((r) => r.effect === 'deny' && Object.keys(r.argConstraints).length === 0)) return false;
  return !rules.some((r) => r.effect === 'allow') || mine.some((r) => r.effect === 'allow');
}
