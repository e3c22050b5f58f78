// Why admin input fails its schema, as values: a schema's message is one of these codes (with
// `params` for the few that carry a detail), and chat/ words them (chat/words/input.ts). Zod's
// own issues (too long, wrong type …) keep the library's message and come back as `schema`.
import type { z } from 'zod';
import { inputIssueCodes, type InputIssue, type InputIssueCode } from '../db/schema/shapes.js';

export { inputIssueCodes, type InputIssue, type InputIssueCode };

const known = new Set<string>(inputIssueCodes);

/** A custom issue carrying a code and its params. */
export function addCoded(ctx: z.RefinementCtx, code: InputIssueCode, params?: { why?: string; kind?: string }): void {
  ctx.addIssue({ code: 'custom', message: code, ...(params ? { params } : {}) });
}

/** A schema error's first issue as a value. */
export function firstIssue(e: z.ZodError): InputIssue {
  const i = e.issues[0]!;
  const path = i.path.join('.');
  if (!known.has(i.message)) return { path, code: 'schema', message: i.message };
  const params = i.code === 'custom' ? (i.params as { why?: string; kind?: string } | undefined) : undefined;
  return { path, code: i.message as InputIssueCode, ...(params ? { params } : {}) };
}
