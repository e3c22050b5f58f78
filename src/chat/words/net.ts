import type { McpAuthFailure, Problem } from '../../db/schema/shapes.js';
import type { UrlRefusal } from '../../net/index.js';

const addressClasses: Record<string, string> = {
  link_local: 'link-local',
  carrier_grade_nat: 'carrier-grade NAT 100.64.0.0/10',
  benchmarking: 'benchmarking 198.18.0.0/15',
  unique_local: 'unique-local',
  ipv4_mapped: 'IPv4-mapped IPv6',
  ipv4_translated: 'IPv4-translated IPv6',
  ipv4_compatible: 'IPv4-compatible IPv6',
  ietf_special: 'IETF special-purpose',
  not_ip: 'not an IP address',
  private_name: 'private name',
};
const carriers: Record<string, string> = { nat64: 'NAT64', '6to4': '6to4', teredo: 'Teredo' };

/**
 * An address class (`AddressClass`) in words: `loopback`, `IPv4-mapped IPv6`, `NAT64 of a private
 * address`. A code not listed (a range named as is, or a phrase stored before classes were coded)
 * is shown as it is.
 */
export function addressClassText(c: string): string {
  const [form, inner] = c.split(':');
  if (inner !== undefined && carriers[form!]) return `${carriers[form!]} of a ${addressClassText(inner)} address`;
  return addressClasses[c] ?? c;
}

const unreachable: Record<string, string> = {
  connection_closed: 'connection closed',
  transport_error: 'transport error',
  protocol_error: 'protocol error',
};

/** Why a server could not be reached, from its code: `ECONNREFUSED`, `HTTP 503`, `connection closed` (others as they are). */
export function unreachableText(detail: string): string {
  return unreachable[detail] ?? detail;
}

/**
 * Why the network guard refused a URL, as the end of a sentence that starts with what the URL is
 * for ("the server URL …", "--issuer …"): `is not a valid URL`, `x.example must use https` ….
 */
export function urlRefusalText(r: UrlRefusal): string {
  switch (r.code) {
    case 'bad_url':
      return 'is not a valid URL';
    case 'scheme':
      return r.protocol === 'http:' ? `${r.host} must use https` : `is a ${r.protocol} URL; it must use https`;
    case 'credentials':
      return `${r.host}: URLs with credentials are refused`;
    case 'private':
      return r.class === undefined
        ? `${r.host} resolves to a loopback, private or link-local address`
        : `${r.host} is a loopback, private or link-local address (${addressClassText(r.class)})`;
    case 'too_large':
      return `${r.host} answered more than ${r.maxBytes} bytes`;
    case 'redirects':
      return `too many redirects from ${r.host}`;
  }
}

const refusedAt = {
  server: 'the server URL ',
  authorization_server: 'the authorization server ',
  endpoint: 'a discovered endpoint ',
  request: '',
} as const;

const discovery = {
  busy: () => 'another registration for this server did not finish in time',
  no_answer: (d?: string) => `the server did not answer: ${d ?? ''}`,
  failed: (d?: string) => d ?? 'unknown error',
  other_resource: (d?: string) => `the protected resource metadata names ${d ?? ''}, not this server`,
  no_authorization_server: () => 'the protected resource metadata names no authorization server',
  no_metadata: () => 'no authorization server metadata (RFC 8414 or OpenID)',
  other_issuer: () => 'the authorization server metadata names a different issuer',
} as const;

/** Why MCP-spec OAuth could not be set up, as the phrase after its kind; undefined: the kind says it all. */
function mcpFailureReason(f: McpAuthFailure): string | undefined {
  switch (f.kind) {
    case 'refused_url':
      return `${refusedAt[f.at]}${urlRefusalText(f.refusal)}`;
    case 'discovery_failed':
      return discovery[f.cause](f.detail);
    case 'no_pkce':
      return undefined;
    case 'registration_failed':
      return f.cause === 'not_offered'
        ? 'the authorization server does not offer dynamic client registration'
        : (f.detail ?? 'refused');
  }
}

/** `server: MCP authorization failed (kind: why)`; a row stored before failures were coded holds its phrase. */
export function mcpAuthText(p: Extract<Problem, { code: 'mcp_auth_failed' }>): string {
  const reason = p.failure ? mcpFailureReason(p.failure) : p.reason;
  return `${p.server}: MCP authorization failed (${p.kind.replace(/_/g, ' ')}${reason ? `: ${reason}` : ''})`;
}
