import { z } from 'zod';
import { isSecretName, isServiceName, isSlug, serverNameSchema } from '../names.js';
import { addCoded, firstIssue, type InputIssue, type InputIssueCode } from './input.js';

/** Where one env var or header gets its value, parsed from `oauth:<provider>`, `mcp_oauth`, `org_secret:<n>` … */
export type BindingSource =
  | { kind: 'oauth'; provider: string }
  /** The org's service grant at `provider` owned by service identity `name` (never a person's grant). */
  | { kind: 'service'; provider: string; name: string }
  | { kind: 'mcp_oauth' }
  | { kind: 'org_secret'; name: string }
  | { kind: 'team_secret'; name: string }
  | { kind: 'user_secret'; name: string }
  | { kind: 'static'; value: string }
  /** The org's machine identity at this server's authorization server (client credentials grant). */
  | { kind: 'client_credentials'; server: string }
  /** The caller's grant at `provider` (an IdP), exchanged for a token meant for this server alone. */
  | { kind: 'exchange'; provider: string };

/** Source kinds that need the caller's own grant (never a fallback to a shared value). */
export const perUserGrantKinds = new Set<BindingSource['kind']>(['oauth', 'mcp_oauth', 'exchange']);

const sourceSchema = z.string().transform((raw, ctx): BindingSource => {
  const i = raw.indexOf(':');
  const kind = i < 0 ? raw : raw.slice(0, i);
  const rest = i < 0 ? '' : raw.slice(i + 1);
  const bad = (code: InputIssueCode, params?: { kind: string }) => {
    addCoded(ctx, code, params);
    return z.NEVER;
  };
  switch (kind) {
    case 'oauth':
      return isSlug(rest) ? { kind, provider: rest } : bad('source_provider');
    case 'exchange':
      return isSlug(rest) ? { kind, provider: rest } : bad('source_provider', { kind });
    case 'client_credentials':
      return serverNameSchema.safeParse(rest).success ? { kind, server: rest } : bad('source_server');
    case 'service': {
      const [provider = '', name = '', ...more] = rest.split('/');
      return isSlug(provider) && isServiceName(name) && !more.length ? { kind, provider, name } : bad('source_service');
    }
    case 'mcp_oauth':
      return i < 0 ? { kind } : bad('source_no_argument');
    case 'org_secret':
    case 'team_secret':
    case 'user_secret':
      return isSecretName(rest) ? { kind, name: rest } : bad('source_secret', { kind });
    case 'static':
      return rest.length > 0 && rest.length <= 1000 ? { kind, value: rest } : bad('source_static');
    default:
      return bad('source_unknown', { kind });
  }
});

/** Parses a binding source; the error says what is wrong, as a value. */
export function parseSource(raw: string): { ok: true; source: BindingSource } | { ok: false; error: InputIssue } {
  const r = sourceSchema.safeParse(raw);
  return r.success ? { ok: true, source: r.data } : { ok: false, error: firstIssue(r.error) };
}

/** The source string as stored and shown (static values are not secret, but shown shortened). */
export function describeSource(s: BindingSource): string {
  switch (s.kind) {
    case 'oauth':
    case 'exchange':
      return `${s.kind}:${s.provider}`;
    case 'client_credentials':
      return `client_credentials:${s.server}`;
    case 'service':
      return `service:${s.provider}/${s.name}`;
    case 'mcp_oauth':
      return 'mcp_oauth';
    case 'static':
      return 'static';
    default:
      return `${s.kind}:${s.name}`;
  }
}

/** A binding template: the value with `{token}` standing for the resolved credential. */
export const templateSchema = z
  .string()
  .min(1)
  .max(200)
  .refine((t) => t.split('{token}').length === 2, 'template_token' satisfies InputIssueCode)
  .refine((t) => headerValueOk(t), 'template_line' satisfies InputIssueCode);

/**
 * Whether a header value may be sent: tab, printable ASCII and Latin-1 only. A CR/LF would split
 * the header (request smuggling); other controls and wider characters are refused by HTTP stacks.
 */
export function headerValueOk(v: string): boolean {
  return /^[\t\x20-\x7e\xa0-\xff]*$/.test(v);
}

/** Env var names a stdio server may receive. */
export const envNameSchema = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'env_name' satisfies InputIssueCode);

/** Headers that describe the HTTP exchange itself and may not be bound. */
const reservedHeaders = new Set([
  'host',
  'content-length',
  'content-type',
  'accept',
  'connection',
  'transfer-encoding',
  'mcp-session-id',
  'mcp-protocol-version',
  'cookie',
]);

/** Header names an http server may receive. */
export const headerNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,127}$/, 'header_name' satisfies InputIssueCode)
  .refine((h) => !reservedHeaders.has(h.toLowerCase()), 'header_reserved' satisfies InputIssueCode);

/** Context placeholders an access rule may inject into arguments. */
export const contextPlaceholders = [
  'user.id',
  'user.email',
  'user.name',
  'org.id',
  'chat.channel',
  'chat.platform',
] as const;
export type ContextPlaceholder = (typeof contextPlaceholders)[number];

/** An injection template such as `{user.email}` or `acme/{user.id}`: only known placeholders. */
export const injectTemplateSchema = z
  .string()
  .min(1)
  .max(200)
  .refine(
    (t) => [...t.matchAll(/\{([^}]*)\}/g)].every((m) => (contextPlaceholders as readonly string[]).includes(m[1]!)),
    'placeholder' satisfies InputIssueCode,
  );

/** Fills `{user.email}` & co. from the caller's context. */
export function fillContext(template: string, ctx: Record<ContextPlaceholder, string>): string {
  return template.replace(/\{([^}]*)\}/g, (_m, k: string) => ctx[k as ContextPlaceholder] ?? '');
}
