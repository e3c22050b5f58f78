import type { Secret } from '../crypto/index.js';
import type { ElicitContent } from '../runner/index.js';
import type { FormField } from './types.js';

/** One property of an elicitation's requested schema (MCP allows flat objects of primitives, enums and multi-selects). */
interface Prop {
  type?: string;
  title?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  enumNames?: string[];
  oneOf?: { const?: unknown; title?: string }[];
  anyOf?: { const?: unknown; title?: string }[];
  items?: Prop;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  format?: string;
  writeOnly?: boolean;
}

interface Schema {
  properties?: Record<string, Prop>;
  required?: string[];
}

/** Names of fields whose values are hidden while typed (the shell) — every value is handled as a secret anyway. */
const SECRETISH = /pass(word|phrase)?|secret|token|api[\s_-]?key|\bpin\b|otp|credential/i;

const choicesOf = (p: Prop): { value: string; label: string }[] | undefined => {
  const titled = p.oneOf ?? p.anyOf ?? p.items?.oneOf ?? p.items?.anyOf;
  if (titled?.length) return titled.map((c) => ({ value: String(c.const), label: c.title ?? String(c.const) }));
  const list = p.enum ?? p.items?.enum;
  if (!list?.length) return undefined;
  return list.map((v, i) => ({ value: String(v), label: p.enumNames?.[i] ?? String(v) }));
};

const props = (schema: Schema): [string, Prop][] => Object.entries(schema.properties ?? {}).slice(0, 50);

/** A short hint of what a field takes ("a whole number from 1 to 10", "yes or no"). */
function hintOf(p: Prop, choices: { label: string }[] | undefined): string {
  const range = (a?: number, b?: number) =>
    a !== undefined && b !== undefined
      ? ` from ${a} to ${b}`
      : a !== undefined
        ? ` of at least ${a}`
        : b !== undefined
          ? ` of at most ${b}`
          : '';
  if (p.type === 'array') return `one or more of: ${choices?.map((c) => c.label).join(', ')} (comma-separated)`;
  if (choices) return `one of: ${choices.map((c) => c.label).join(', ')}`;
  if (p.type === 'boolean') return 'yes or no';
  if (p.type === 'integer') return `a whole number${range(p.minimum, p.maximum)}`;
  if (p.type === 'number') return `a number${range(p.minimum, p.maximum)}`;
  if (p.format)
    return (
      { email: 'an email address', uri: 'a URL', date: 'a date (YYYY-MM-DD)', 'date-time': 'a date and time' }[
        p.format
      ] ?? 'text'
    );
  return 'text';
}

/** How a default shows in a field ("yes" for true, a choice's label). */
function shownDefault(p: Prop, choices: { value: string; label: string }[] | undefined): string | undefined {
  if (p.default === undefined || p.default === null) return undefined;
  if (p.type === 'boolean') return p.default ? 'yes' : 'no';
  if (Array.isArray(p.default))
    return p.default.map((v) => choices?.find((c) => c.value === String(v))?.label ?? String(v)).join(', ');
  return choices?.find((c) => c.value === String(p.default))?.value ?? String(p.default);
}

/** The form's fields for a requested schema: each property, its hint, its default filled in, required marked. */
export function formFields(schema: Record<string, unknown>): FormField[] {
  const s = schema as Schema;
  return props(s).map(([id, p]) => {
    const choices = choicesOf(p);
    const initial = shownDefault(p, choices);
    const single = choices && p.type !== 'array';
    return {
      id,
      label: (p.title ?? id).slice(0, 200),
      hint: [p.description, hintOf(p, choices)].filter(Boolean).join(' — ').slice(0, 300),
      required: (s.required ?? []).includes(id),
      hidden: SECRETISH.test(`${id} ${p.title ?? ''}`) || p.writeOnly === true || p.format === 'password',
      ...(initial !== undefined ? { initial } : {}),
      ...(single
        ? { options: choices }
        : p.type === 'boolean'
          ? {
              options: [
                { value: 'yes', label: 'Yes' },
                { value: 'no', label: 'No' },
              ],
            }
          : {}),
    };
  });
}

/** One typed value for property `p`, or the problem with it. */
function valueOf(
  raw: string,
  p: Prop,
  label: string,
): { ok: true; value: ElicitContent[string] } | { ok: false; problem: string } {
  const choices = choicesOf(p);
  const pick = (v: string) => choices?.find((c) => c.value === v || c.label.toLowerCase() === v.toLowerCase())?.value;
  if (p.type === 'array') {
    const parts = raw
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
    const picked = parts.map(pick);
    if (picked.some((x) => x === undefined)) return { ok: false, problem: `${label} takes ${hintOf(p, choices)}.` };
    return { ok: true, value: picked as string[] };
  }
  if (choices) {
    const v = pick(raw);
    return v === undefined ? { ok: false, problem: `${label} must be ${hintOf(p, choices)}.` } : { ok: true, value: v };
  }
  if (p.type === 'boolean') {
    if (/^(y|yes|true|1|on)$/i.test(raw)) return { ok: true, value: true };
    if (/^(n|no|false|0|off)$/i.test(raw)) return { ok: true, value: false };
    return { ok: false, problem: `${label} must be yes or no.` };
  }
  if (p.type === 'integer' || p.type === 'number') {
    const n = Number(raw);
    const bad = raw === '' || !Number.isFinite(n) || (p.type === 'integer' && !Number.isInteger(n));
    if (bad || (p.minimum !== undefined && n < p.minimum) || (p.maximum !== undefined && n > p.maximum))
      return { ok: false, problem: `${label} must be ${hintOf(p, choices)}.` };
    return { ok: true, value: n };
  }
  if (
    (p.minLength !== undefined && raw.length < p.minLength) ||
    (p.maxLength !== undefined && raw.length > p.maxLength)
  )
    return { ok: false, problem: `${label} must be ${p.minLength ?? 0} to ${p.maxLength ?? '∞'} characters long.` };
  if (p.format === 'email' && !/^[^\s@]+@[^\s@]+$/.test(raw))
    return { ok: false, problem: `${label} must be an email address.` };
  return { ok: true, value: raw };
}

/**
 * The submitted values typed as the schema asks. An empty field takes its default (SEP-1034); an
 * empty required field without one is a problem. Problems name the field, never its value.
 */
export function readAnswer(
  schema: Record<string, unknown>,
  values: Record<string, Secret>,
): { ok: true; content: ElicitContent } | { ok: false; problems: string[] } {
  const s = schema as Schema;
  const content: ElicitContent = {};
  const problems: string[] = [];
  for (const [id, p] of props(s)) {
    const raw = values[id]?.reveal().trim() ?? '';
    const label = p.title ?? id;
    if (!raw) {
      if (p.default !== undefined && p.default !== null) content[id] = p.default as ElicitContent[string];
      else if ((s.required ?? []).includes(id)) problems.push(`${label} is required.`);
      continue;
    }
    const v = valueOf(raw, p, label);
    if (v.ok) content[id] = v.value;
    else problems.push(v.problem);
  }
  return problems.length ? { ok: false, problems } : { ok: true, content };
}
