import { z } from 'zod';
import { isSecretName, isSlug } from '../names.js';

/** Where one env var or header gets its value, parsed from `oauth:<provider>`, `mcp_oauth`, `org_secret:<n>` … */
export type BindingSource =
  | { kind: 'oauth'; provider: string }
  | { kind: 'mcp_oauth' }
  | { kind: 'org_secret'; name: string }
  | { kind: 'team_secret'; name: string }
  | { kind: 'user_secret'; name: string }
  | { kind: 'static'; value: string };

/** Source kinds that need the caller's own grant (never a fallback to a shared value). */
export const perUserGrantKinds = new Set<BindingSource['kind']>(['oauth', 'mcp_oauth']);

const sourceSchema = z.string().transform((raw, ctx): BindingSource => {
  const i = raw.indexOf(':');
  const kind = i < 0 ? raw : raw.slice(0, i);
  const rest = i < 0 ? '' : raw.slice(i + 1);
  const bad = (message: string) => {
    ctx.addIssue({ code: 'custom', message });
    return z.NEVER;
  };
  switch (kind) {
    case 'oauth':
      return isSlug(rest)
        ? { kind, provider: rest }
        : bad('oauth:<provider> needs a provider slug (lowercase letters, digits, - and _)');
    case 'mcp_oauth':
      return i < 0 ? { kind } : bad('mcp_oauth takes no argument');
    case 'org_secret':
    case 'team_secret':
    case 'user_secret':
      return isSecretName(rest)
        ? { kind, name: rest }
        : bad(`${kind}:<name> needs a secret name (1–64 letters, digits, dots, dashes or underscores)`);
    case 'static':
      return rest.length > 0 && rest.length <= 1000
        ? { kind, value: rest }
        : bad('static:<value> needs a value of 1–1000 characters');
    default:
      return bad(
        `unknown source "${kind}"; use oauth:<provider>, mcp_oauth, org_secret:<name>, team_secret:<name>, user_secret:<name> or static:<value>`,
      );
  }
});

/** Parses a binding source; the error is one line naming what is wrong. */
export function parseSource(raw: string): { ok: true; source: BindingSource } | { ok: false; error: string } {
  const r = sourceSchema.safeParse(raw);
  return r.success ? { ok: true, source: r.data } : { ok: false, error: r.error.issues[0]!.message };
}

/** The source string as stored and shown (static values are not secret, but shown shortened). */
export function describeSource(s: BindingSource): string {
  switch (s.kind) {
    case 'oauth':
      return `oauth:${s.provider}`;
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
  .refine(
    (t) => t.split('{token}').length === 2,
    'the template must contain {token} exactly once, e.g. "Bearer {token}"',
  )
  .refine(
    (t) => headerValueOk(t),
    'the template must be one line of printable characters (no line breaks or control characters)',
  );

/**
 * Whether a header value may be sent: tab, printable ASCII and Latin-1 only. A CR/LF would split
 * the header (request smuggling); other controls and wider characters are refused by HTTP stacks.
 */
export function headerValueOk(v: string): boolean {
  return /^[\t\x20-\x7e\xa0-\xff]*$/.test(v);
}

/** Env var names a stdio server may receive. */
export const envNameSchema = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'an env var name is letters, digits and _, not starting with a digit');

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
  .regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,127}$/, 'a header name is letters, digits and dashes')
  .refine(
    (h) => !reservedHeaders.has(h.toLowerCase()),
    'that header is set by the MCP transport itself and cannot be bound',
  );

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
    `unknown placeholder; use ${contextPlaceholders.map((p) => `{${p}}`).join(', ')}`,
  );

/** Fills `{user.email}` & co. from the caller's context. */
export function fillContext(template: string, ctx: Record<ContextPlaceholder, string>): string {
  return template.replace(/\{([^}]*)\}/g, (_m, k: string) => ctx[k as ContextPlaceholder] ?? '');
}
