export { Policy, type PolicyOptions, type BindingRow } from './policy.js';
export type {
  PolicyChange,
  PolicyRefusal,
  PolicyResult,
  RuleRefusal,
  SecretTeamRefusal,
  ServerRefusal,
} from './results.js';
export { SecretStore, type SecretScope } from './secrets.js';
export { inputIssueCodes, type InputIssue, type InputIssueCode } from './input.js';
export { Teams, type Team, type TeamResolution } from './teams.js';
export { duplicateKey, normaliseValue } from './args.js';
export { decide, visible, globMatch, describeRule, type AccessRule, type Subject, type Decision } from './rules.js';
export {
  parseSource,
  describeSource,
  perUserGrantKinds,
  fillContext,
  contextPlaceholders,
  type BindingSource,
  type ContextPlaceholder,
} from './sources.js';
export { DEFAULT_TIMEOUT_MS, type McpServerRow, type ServerInput, type ServerListing } from './servers.js';
export {
  actsAsCaller,
  resolveCredentials,
  type Caller,
  type ConnectReason,
  type McpOAuthRegistrar,
  type Resolution,
  type ResolvedCredentials,
  type RunnerTokens,
} from './resolve.js';
export {
  ApprovalRules,
  approvalMode,
  approvalModes,
  type ApprovalDecision,
  type ApprovalMode,
  type ApprovalRule,
} from './approvals.js';
export { DeclaredObjects, type DeclaredKind, type DeclaredObject } from './declared.js';
