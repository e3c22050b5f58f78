/**
 * How access rules read argument values: one normal form, judged per path segment.
 *
 * A constrained value must be a string. It is refused outright when it holds a control, format
 * or line/paragraph separator character (C0, DEL, C1, U+2028/2029, bidi and zero-width
 * controls), a percent-encoded byte, or a `.`/`..` segment (also after NFKC, so `．．` counts).
 * Otherwise it is normalised — NFC, trimmed, runs of `/` collapsed, a trailing `/` removed —
 * and the normalised value is both what rules match and what the tool is sent.
 */

/** Control (Cc), format (Cf: bidi, zero-width, BOM …) and line/paragraph separators. */
const FORBIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
const PERCENT = /%[0-9A-Fa-f]{2}/;

/** `code`: why a value cannot be judged (`chat/` words it). */
export type Normalised = { ok: true; value: string } | { ok: false; code: 'control' | 'percent' | 'dot_segment' };

/** The normal form of a constrained value, or why it cannot be judged. */
export function normaliseValue(raw: string): Normalised {
  if (FORBIDDEN.test(raw)) return { ok: false, code: 'control' };
  if (PERCENT.test(raw)) return { ok: false, code: 'percent' };
  let v = raw
    .normalize('NFC')
    .trim()
    .replace(/\/{2,}/g, '/');
  if (v.length > 1 && v.endsWith('/')) v = v.slice(0, -1);
  for (const form of [v, v.normalize('NFKC')]) {
    if (FORBIDDEN.test(form)) return { ok: false, code: 'control' };
    if (form.split(/[/\\]/).some((s) => s === '.' || s === '..')) return { ok: false, code: 'dot_segment' };
  }
  return { ok: true, value: v };
}

/** Case- and compatibility-folded form used by case-insensitive matching: NFKC, then lower case, then slashes re-collapsed. */
export function fold(v: string): string {
  let f = v
    .normalize('NFKC')
    .toLowerCase()
    .normalize('NFKC')
    .replace(/\/{2,}/g, '/');
  if (f.length > 1 && f.endsWith('/')) f = f.slice(0, -1);
  return f;
}

/** An argument name reduced to what a lenient server might treat as the same name (`User-Email` ≈ `user_email`). */
export function foldName(n: string): string {
  return n
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\s_.\-\p{Cf}]/gu, '');
}

const escape = (s: string) => s.replace(/[.+^${}()|[\]\\*?]/g, '\\$&');

/**
 * A glob as a regular expression. Values (`segments`): `*` is any run within one `/` segment,
 * `**` any run across segments, `?` one character other than `/`. Tool names (`names`): `*` is
 * any run, `?` any one character.
 */
export function compileGlob(glob: string, mode: 'segments' | 'names'): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      const double = glob[i + 1] === '*';
      if (double) while (glob[i + 1] === '*') i++;
      re += mode === 'names' || double ? '.*' : '[^/]*';
    } else if (c === '?') re += mode === 'names' ? '.' : '[^/]';
    else re += escape(c);
  }
  // No `s` flag: `.` never matches a line break (values holding one are refused before this anyway).
  return new RegExp(`^${re}$`, 'u');
}

/**
 * The first own key named `__proto__` anywhere in a JSON-shaped value (JSON.parse makes it an own
 * property; copied carelessly it becomes a prototype, and servers may pollute theirs with it).
 */
export function protoKey(v: unknown, depth = 0): boolean {
  if (depth > 64) return true;
  if (Array.isArray(v)) return v.some((x) => protoKey(x, depth + 1));
  if (v && typeof v === 'object')
    return Object.keys(v).some((k) => k === '__proto__' || protoKey((v as Record<string, unknown>)[k], depth + 1));
  return false;
}

/**
 * The first key that occurs twice in one object of a JSON text (`{"repo":"a","repo":"b"}`), or
 * undefined. JSON.parse silently keeps the last; a person reading the command saw both. Expects
 * text JSON.parse accepted.
 */
export function duplicateKey(json: string): string | undefined {
  const stack: (Set<string> | null)[] = [];
  for (let i = 0; i < json.length; i++) {
    const c = json[i]!;
    if (c === '{') stack.push(new Set());
    else if (c === '[') stack.push(null);
    else if (c === '}' || c === ']') stack.pop();
    else if (c === '"') {
      let j = i + 1;
      while (json[j] !== '"') j += json[j] === '\\' ? 2 : 1;
      const str = json.slice(i, j + 1);
      i = j;
      const keys = stack[stack.length - 1];
      let k = j + 1;
      while (/\s/.test(json[k] ?? '')) k++;
      if (keys && json[k] === ':') {
        const name = JSON.parse(str) as string;
        if (keys.has(name)) return name;
        keys.add(name);
      }
    }
  }
  return undefined;
}
