import { CodedError } from '../errors.js';

/** Longest command line accepted, in characters. */
export const MAX_COMMAND_LENGTH = 4000;

/** A line that cannot be a command, with the one line that says why. */
export class CommandInputError extends CodedError {
  readonly code = 'command_input_invalid';
}

/**
 * Splits a command line into words, honouring "double" and 'single' quotes.
 * Rejects oversized lines and control characters (other than tab) before anything else.
 */
export function tokenize(line: string): string[] {
  if (line.length > MAX_COMMAND_LENGTH) {
    throw new CommandInputError(`That command is ${line.length} characters long; the limit is ${MAX_COMMAND_LENGTH}.`);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b-\u001f\u007f\u202a-\u202e\u2066-\u2069]/.test(line)) {
    throw new CommandInputError('That command contains control characters; type it again as plain text.');
  }
  const words: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (const m of line.matchAll(re)) words.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? m[3]!));
  return words;
}

/** Parses `--name value` / `--flag` options out of words; returns the rest in order. */
export function options(words: string[]): { positional: string[]; flags: Record<string, string | true> } {
  const positional: string[] = [];
  const flags: Record<string, string | true> = {};
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w.startsWith('--') && w.length > 2) {
      const [name, inline] = w.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
      if (inline !== undefined) flags[name] = inline;
      else if (i + 1 < words.length && !words[i + 1]!.startsWith('--')) flags[name] = words[++i]!;
      else flags[name] = true;
    } else positional.push(w);
  }
  return { positional, flags };
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length]![b.length]!;
}

/** The closest of `candidates` to `word`, if it is close enough to be a typo. */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  let best: { c: string; d: number } | undefined;
  for (const c of candidates) {
    const dist = distance(word.toLowerCase(), c);
    if (!best || dist < best.d) best = { c, d: dist };
  }
  return best && best.d <= Math.max(2, Math.floor(best.c.length / 3)) ? best.c : undefined;
}

const SECRET_SHAPES: RegExp[] = [
  /\bxox[abposr]-[A-Za-z0-9-]{10,}/, // Slack tokens
  /\bxapp-[A-Za-z0-9-]{10,}/,
  /\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})/, // GitHub
  /\bglpat-[A-Za-z0-9_-]{16,}/, // GitLab
  /\bsk-[A-Za-z0-9_-]{16,}/, // OpenAI-style API keys
  /\bAKIA[0-9A-Z]{16}\b/, // AWS access key id
  /\bya29\.[A-Za-z0-9_-]{20,}/, // Google access token
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
  /\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/, // a JWT
];

/** Whether a line carries something shaped like a credential (it must go through a secret form). */
export function looksLikeSecret(line: string): boolean {
  if (SECRET_SHAPES.some((re) => re.test(line))) return true;
  // Long random-looking words: 32+ chars mixing upper, lower and digits.
  return line
    .split(/[\s"'=:,{}[\]]+/)
    .some(
      (w) =>
        w.length >= 32 && /[a-z]/.test(w) && /[A-Z]/.test(w) && /\d/.test(w) && !/^https?:/.test(w) && !w.includes('/'),
    );
}
