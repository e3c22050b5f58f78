import type { z } from 'zod';
import type { Done } from '../errors.js';
import type { UrlRefusal } from '../net/index.js';
import type { ApprovalMode } from './approvals.js';
import type { SecretScope } from './secrets.js';
import { firstIssue, type InputIssue } from './input.js';

/** What an admin change of policy did (`chat/` words it). */
export type PolicyChange =
  | { kind: 'server_added'; name: string; transport: 'http' | 'stdio' }
  | { kind: 'server_removed'; name: string }
  /** `privateResults`: results obtained with the caller's own grant go to the caller only. */
  | { kind: 'server_updated'; name: string; privateResults: boolean }
  /** `source`: null for a static value (never shown back). */
  | { kind: 'bound'; server: string; target: 'env' | 'header'; name: string; source: string | null; template?: string }
  | { kind: 'rule_added'; rule: string; inject: Record<string, string>; id: string }
  | { kind: 'server_changed'; name: string; transport: 'http' | 'stdio' }
  | { kind: 'unbound'; server: string; target: 'env' | 'header'; name: string }
  | { kind: 'approval_removed'; server: string; glob: string }
  | { kind: 'approval_set'; server: string; glob: string; mode: ApprovalMode }
  | { kind: 'approval_rules'; server: string; rules: { tools: string; mode: string }[] }
  | { kind: 'secret_stored'; scope: SecretScope; name: string }
  | { kind: 'secret_deleted'; scope: SecretScope; name: string }
  | { kind: 'teams'; teams: { name: string; members: number; channels: string[] }[] }
  | { kind: 'team_created'; team: string }
  | { kind: 'team_channel_bound'; team: string }
  | { kind: 'team_member_added'; team: string; user: string }
  | { kind: 'team_member_removed'; team: string; user: string }
  | { kind: 'team_deleted'; team: string; secrets: number; rules: number };

/** Why a server or binding change was refused. */
export type ServerRefusal =
  /** Input that fails its schema; `issue` says which field and why (chat/words/input.ts words it). */
  | { kind: 'invalid'; what: 'server' | 'binding' | 'rule'; issue: InputIssue }
  | { kind: 'stdio_not_allowed' }
  /** Why the network guard refused the URL; a `private` refusal the operator may allow. */
  | { kind: 'url_refused'; refusal: UrlRefusal }
  | { kind: 'server_exists'; name: string }
  | { kind: 'unknown_server'; name: string }
  | { kind: 'wrong_bind_target'; server: string; transport: 'http' | 'stdio' }
  | { kind: 'mcp_oauth_needs_http' };

/** Why an access or approval rule was refused. */
export type RuleRefusal =
  | { kind: 'proto_argument' }
  | { kind: 'rule_unknown_user'; user: string }
  | { kind: 'rule_unknown_team'; team: string }
  | { kind: 'deny_injects' }
  | { kind: 'bad_tool_glob' }
  | { kind: 'bad_approval_mode'; mode: string };

/** Why a secret or team change was refused. */
export type SecretTeamRefusal =
  | { kind: 'unknown_team'; name: string }
  | { kind: 'unknown_user' }
  | { kind: 'bad_secret_name' }
  | { kind: 'no_secret'; scope: SecretScope; name: string }
  | { kind: 'which_team' }
  | { kind: 'bad_team_name' }
  | { kind: 'team_exists'; name: string }
  | { kind: 'which_channel' }
  | { kind: 'which_user' }
  | { kind: 'not_team_member'; team: string; user: string };

/** Why an admin change of policy was refused (`chat/` words it). */
export type PolicyRefusal = ServerRefusal | RuleRefusal | SecretTeamRefusal;

/** The outcome of an admin change of policy. */
export type PolicyResult = Done<PolicyChange, PolicyRefusal>;

export const changed = (value: PolicyChange): PolicyResult => ({ ok: true, value });
export const refused = (error: PolicyRefusal): PolicyResult => ({ ok: false, error });

/** Refusal of input that fails its schema. */
export const invalid = (what: 'server' | 'binding' | 'rule', issue: InputIssue | z.ZodError): PolicyResult =>
  refused({ kind: 'invalid', what, issue: 'issues' in issue ? firstIssue(issue) : issue });
