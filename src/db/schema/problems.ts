// Why a call did not run or finish, and the coded pieces inside it, as zod schemas: JSON columns
// (`tool_calls.outcome`) hold them and chat/ words them (chat/words/problems.ts, net.ts, input.ts).
import { z } from 'zod';
import type { UrlRefusal } from '../../net/url.js';

const scope = z.enum(['org', 'user', 'team']);
const str = z.string();

/** Why a team secret could not be chosen for the caller. */
export const teamProblemSchema = z.discriminatedUnion('code', [
  z.object({ code: z.literal('not_member'), team: str.optional() }),
  z.object({ code: z.literal('no_team') }),
  z.object({ code: z.literal('several_teams'), teams: z.array(str) }),
]);
export type TeamProblem = z.infer<typeof teamProblemSchema>;

/** Why the network guard refused a URL (src/net/url.ts `UrlRefusal`). */
const urlRefusalSchema = z.discriminatedUnion('code', [
  z.object({ code: z.literal('bad_url') }),
  z.object({ code: z.literal('scheme'), host: str, protocol: str }),
  z.object({ code: z.literal('credentials'), host: str }),
  z.object({ code: z.literal('private'), host: str, class: str.optional() }),
  z.object({ code: z.literal('too_large'), host: str, maxBytes: z.number() }),
  z.object({ code: z.literal('redirects'), host: str }),
]) satisfies z.ZodType<UrlRefusal>;

/** The codes admin-input schemas give as their message (src/policy/input.ts; chat/words/input.ts words them). */
export const inputIssueCodes = [
  'server_name',
  'timeout_min',
  'timeout_max',
  'url_invalid',
  'url_scheme',
  'stdio_command',
  'arg_name',
  'glob',
  'roles',
  'source_provider',
  'source_server',
  'source_no_argument',
  'source_secret',
  'source_static',
  'source_service',
  'source_unknown',
  'template_token',
  'template_line',
  'env_name',
  'header_name',
  'header_reserved',
  'placeholder',
] as const;
export type InputIssueCode = (typeof inputIssueCodes)[number];

/**
 * One issue of admin input: `path` is the field (`name`, `args.repo`; empty for the whole value).
 * `params`: `why` of a glob (`control`, `percent`, `dot_segment`), `kind` of a source.
 */
export type InputIssue =
  | { path: string; code: InputIssueCode; params?: { why?: string; kind?: string } }
  | { path: string; code: 'schema'; message: string };

/** One issue of admin input. */
const inputIssueSchema = z.union([
  z.object({ path: str, code: z.literal('schema'), message: str }),
  z.object({
    path: str,
    code: z.enum(inputIssueCodes),
    params: z.object({ why: str.optional(), kind: str.optional() }).optional(),
  }),
]) satisfies z.ZodType<InputIssue>;

/**
 * Why MCP-spec OAuth (discovery and dynamic registration) could not be set up for a server, as a
 * value (chat/words/net.ts words it). `detail` is upstream data, shown as such and never a sentence
 * of ours: a system error code, the peer's or the SDK's own short text (oauth/discovery.ts
 * `upstreamDetail`), or the resource a metadata document names.
 */
export const mcpAuthFailureSchema = z.discriminatedUnion('kind', [
  /** `at`: whose URL the guard refused; `request`: an address a request was about to reach. */
  z.object({
    kind: z.literal('refused_url'),
    at: z.enum(['server', 'authorization_server', 'endpoint', 'request']),
    refusal: urlRefusalSchema,
  }),
  z.object({
    kind: z.literal('discovery_failed'),
    cause: z.enum([
      'busy',
      'no_answer',
      'failed',
      'other_resource',
      'no_authorization_server',
      'no_metadata',
      'other_issuer',
    ]),
    detail: str.optional(),
  }),
  z.object({ kind: z.literal('no_pkce') }),
  z.object({
    kind: z.literal('registration_failed'),
    cause: z.enum(['not_offered', 'refused']),
    detail: str.optional(),
  }),
]);
export type McpAuthFailure = z.infer<typeof mcpAuthFailureSchema>;

/**
 * Why a call did not run or did not finish, as a value: inner layers return these and `chat/`
 * words them (chat/words/problems.ts). `rule` is an access rule as an admin writes it.
 */
export const problemSchema = z.discriminatedUnion('code', [
  // the runner
  z.object({ code: z.literal('server_removed') }),
  z.object({ code: z.literal('internal') }),
  z.object({ code: z.literal('gave_up') }),
  z.object({ code: z.literal('too_slow') }),
  z.object({ code: z.literal('unknown_server'), server: str }),
  z.object({ code: z.literal('queue_cap'), max: z.number() }),
  z.object({ code: z.literal('unknown_tool'), server: str, tool: str }),
  /**
   * A private or otherwise refused address of `server`; `setting`: ONBEHALF_ALLOW_PRIVATE_URLS would
   * allow it. Rows stored before refusals were coded hold the guard's phrase in `reason` instead.
   */
  z.object({
    code: z.literal('refused_url'),
    refusal: urlRefusalSchema.optional(),
    server: str.optional(),
    reason: str.optional(),
    setting: z.boolean(),
  }),
  z.object({ code: z.literal('protocol'), server: str, message: str }),
  z.object({ code: z.literal('credentials_rejected'), server: str, kinds: z.array(str) }),
  z.object({ code: z.literal('park_cap'), provider: str, max: z.number() }),
  /** The server still wanted more scopes after `rounds` step-up authorizations. */
  z.object({ code: z.literal('scope_step_up_limit'), server: str, scopes: z.array(str), rounds: z.number() }),
  z.object({ code: z.literal('user_gone') }),
  z.object({ code: z.literal('connect_timeout'), minutes: z.number() }),
  z.object({ code: z.literal('approval_expired'), minutes: z.number() }),
  z.object({ code: z.literal('approval_denied') }),
  z.object({ code: z.literal('assistant_never') }),
  // credentials
  /** `issue`: why the stored source no longer parses; rows stored before issues were coded hold `error`, a phrase. */
  z.object({
    code: z.literal('binding_invalid'),
    binding: str,
    server: str,
    issue: inputIssueSchema.optional(),
    error: str.optional(),
  }),
  z.object({ code: z.literal('header_unsafe'), header: str, server: str, source: str }),
  z.object({ code: z.literal('secret_missing'), scope, name: str, server: str, team: str.optional() }),
  z.object({ code: z.literal('secret_moved'), scope, name: str, server: str }),
  z.object({ code: z.literal('secret_keys'), scope, name: str, server: str }),
  z.object({ code: z.literal('team'), server: str, name: str, team: teamProblemSchema }),
  z.object({ code: z.literal('mcp_oauth_unsupported'), server: str }),
  z.object({ code: z.literal('mcp_not_protected'), server: str }),
  /** Rows stored before failures were coded hold `kind` and the phrase in `reason` instead of `failure`. */
  z.object({
    code: z.literal('mcp_auth_failed'),
    server: str,
    kind: str,
    failure: mcpAuthFailureSchema.optional(),
    reason: str.optional(),
  }),
  /** `source`: the binding source (`client_credentials:<server>`, `exchange:<provider>`) on a stdio server or without a URL. */
  z.object({ code: z.literal('minted_unsupported'), server: str, source: str }),
  z.object({ code: z.literal('machine_other_server'), server: str, named: str }),
  z.object({ code: z.literal('machine_client_missing'), server: str }),
  /** `error`: the authorization server's code; `description`: its own words. */
  z.object({ code: z.literal('machine_token_refused'), server: str, error: str, description: str.optional() }),
  /** `by`: who refused, the IdP (its policy) or the server's authorization server (the ID-JAG). */
  z.object({
    code: z.literal('exchange_denied'),
    server: str,
    provider: str,
    by: z.enum(['idp', 'server']),
    error: str,
    description: str.optional(),
  }),
  z.object({ code: z.literal('exchange_no_id_token'), server: str, provider: str }),
  z.object({ code: z.literal('unknown_provider'), provider: str }),
  z.object({ code: z.literal('provider_unreachable'), provider: str }),
  z.object({ code: z.literal('token_store'), provider: str }),
  /** A `service:<provider>/<name>` binding whose service grant no admin has connected yet. */
  z.object({ code: z.literal('service_grant_missing'), provider: str, name: str }),
  /** The service grant died (refresh refused, revoked): an admin must reconnect it; the admins were told. */
  z.object({ code: z.literal('service_grant_dead'), provider: str, name: str }),
  // access rules
  z.object({ code: z.literal('proto_key') }),
  z.object({ code: z.literal('look_alike'), arg: str, name: str, rule: str }),
  /** `got`: the JSON type supplied (`null`, `array`, `object`, `number`, `boolean`). */
  z.object({ code: z.literal('not_string'), name: str, got: str, rule: str }),
  z.object({ code: z.literal('not_plain'), name: str, why: z.enum(['control', 'percent', 'dot_segment']), rule: str }),
  z.object({ code: z.literal('missing_arg'), name: str, rule: str }),
  z.object({ code: z.literal('deny_rule'), rule: str }),
  z.object({ code: z.literal('no_allow_rule'), server: str, tool: str }),
  z.object({ code: z.literal('requires'), rule: str, name: str, glob: str }),
  /** A row written before reasons were coded: its sentence as it was stored. */
  z.object({ code: z.literal('text'), text: str }),
]);
export type Problem = z.infer<typeof problemSchema>;
