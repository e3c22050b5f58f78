import { connectionText, providerText } from '../../src/chat/words/oauth.js';
import { policyText } from '../../src/chat/words/policy.js';
import type { ConnectionResult, ProviderResult } from '../../src/oauth/index.js';
import type { PolicyResult } from '../../src/policy/index.js';

/*
 * Inner layers answer values; `chat/` words them. These put a result in the words a person reads,
 * as `{ ok, message }` or `{ ok, error }` (a provider refusal also keeps its `code`, its kind), so
 * tests of policy and OAuth assert the exact sentences.
 */

/** A policy change's result as the chat says it. */
export const saidPolicy = (r: PolicyResult) =>
  r.ok ? { ok: true as const, message: policyText(r) } : { ok: false as const, error: policyText(r) };

/** A provider change's result as the chat says it; a refusal keeps its kind as `code`. */
export const saidProvider = (r: ProviderResult) =>
  r.ok
    ? { ok: true as const, message: providerText(r) }
    : { ok: false as const, code: r.error.kind, error: providerText(r) };

/** A connection change's result as the chat says it. */
export const saidConnection = (r: ConnectionResult) =>
  r.ok ? { ok: true as const, message: connectionText(r) } : { ok: false as const, error: connectionText(r) };

const ADMIN_CHANGES = [
  'addServer',
  'removeServer',
  'setServer',
  'bind',
  'rule',
  'approve',
  'approvalRules',
  'setSecret',
  'deleteSecret',
  'team',
] as const;
type AdminChange = (typeof ADMIN_CHANGES)[number];
type PolicyLike = { [K in AdminChange]: (...a: never[]) => Promise<PolicyResult> };

/** The admin changes of `policy`, each answering in the words the chat says them. */
export function wordsOf<P extends PolicyLike>(
  policy: P,
): { [K in AdminChange]: (...a: Parameters<P[K]>) => Promise<ReturnType<typeof saidPolicy>> } {
  const call =
    (k: AdminChange) =>
    async (...a: unknown[]) =>
      saidPolicy(await (policy[k] as (...x: unknown[]) => Promise<PolicyResult>).apply(policy, a));
  return Object.fromEntries(ADMIN_CHANGES.map((k) => [k, call(k)])) as never;
}
