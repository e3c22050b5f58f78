import { contextPlaceholders, type InputIssue, type InputIssueCode } from '../../policy/index.js';

const notPlain: Record<string, string> = {
  control: 'holds control or invisible characters',
  percent: 'holds percent-encoded characters',
  dot_segment: 'has a "." or ".." path segment',
};

const words: { [K in InputIssueCode]: (p: { why?: string; kind?: string }) => string } = {
  server_name: () => 'a server name is 1–40 letters, digits, dashes or underscores',
  timeout_min: () => 'the timeout must be at least 100 ms',
  timeout_max: () => 'the timeout must be at most 600000 ms (10 minutes)',
  url_invalid: () => 'the URL is not valid',
  url_scheme: () => 'the URL must start with http:// or https://',
  stdio_command: () => 'a stdio server needs a command',
  arg_name: () => 'an argument name is letters, digits, dots, dashes or underscores',
  glob: (p) => `the glob ${notPlain[p.why ?? ''] ?? 'is not plain'}; values like that are refused anyway`,
  roles: () => 'roles are admin or member',
  source_provider: (p) => `${p.kind ?? 'oauth'}:<provider> needs a provider slug (lowercase letters, digits, - and _)`,
  source_server: () => 'client_credentials:<server> needs the name of the server it is bound on',
  source_no_argument: () => 'mcp_oauth takes no argument',
  source_secret: (p) => `${p.kind}:<name> needs a secret name (1–64 letters, digits, dots, dashes or underscores)`,
  source_static: () => 'static:<value> needs a value of 1–1000 characters',
  source_service: () =>
    'service:<provider>/<name> needs a provider slug and a service name (lowercase letters, digits and dashes)',
  source_unknown: (p) =>
    `unknown source "${p.kind}"; use oauth:<provider>, service:<provider>/<name>, mcp_oauth, client_credentials:<server>, exchange:<provider>, org_secret:<name>, team_secret:<name>, user_secret:<name> or static:<value>`,
  template_token: () => 'the template must contain {token} exactly once, e.g. "Bearer {token}"',
  template_line: () => 'the template must be one line of printable characters (no line breaks or control characters)',
  env_name: () => 'an env var name is letters, digits and _, not starting with a digit',
  header_name: () => 'a header name is letters, digits and dashes',
  header_reserved: () => 'that header is set by the MCP transport itself and cannot be bound',
  placeholder: () => `unknown placeholder; use ${contextPlaceholders.map((p) => `{${p}}`).join(', ')}`,
};

/** One issue of admin input as `field: what is wrong` (zod's own issues keep the library's words). */
export function inputIssueText(i: InputIssue): string {
  const why = i.code === 'schema' ? i.message : words[i.code](i.params ?? {});
  return (i.path ? `${i.path}: ` : '') + why;
}
