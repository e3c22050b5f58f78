import { z } from 'zod';
import type { UrlCheck } from '../net/index.js';
import { defaults, type OAuthDeps } from './deps.js';

const oidcConfig = z.looseObject({
  issuer: z.string(),
  authorization_endpoint: z.string(),
  token_endpoint: z.string(),
  userinfo_endpoint: z.string().optional(),
  revocation_endpoint: z.string().optional(),
  code_challenge_methods_supported: z.array(z.string()).optional(),
  authorization_response_iss_parameter_supported: z.boolean().optional(),
});

/** One line for a refused URL; a private address says how the operator can allow it. */
export const urlRefusal = (name: string, c: Extract<UrlCheck, { ok: false }>) =>
  `${name} ${c.reason}${c.code === 'private' ? '; the operator can allow private addresses with ONBEHALF_ALLOW_PRIVATE_URLS=true' : ''}.`;

/** OpenID discovery from the issuer, through the SSRF guard; the issuer in the document must match. */
export async function discoverOidc(d: OAuthDeps, issuer: string) {
  const base = issuer.replace(/\/+$/, '');
  const fail = (error: string) => ({ ok: false as const, code: 'discovery_failed' as const, error });
  let doc: z.infer<typeof oidcConfig>;
  try {
    const res = await d.net.fetch({ timeoutMs: d.options?.httpTimeoutMs ?? defaults.httpTimeoutMs })(
      `${base}/.well-known/openid-configuration`,
      { headers: { accept: 'application/json' } },
    );
    if (!res.ok) return fail(`OpenID discovery at ${new URL(base).host} answered ${res.status}.`);
    const parsed = oidcConfig.safeParse(await res.json());
    if (!parsed.success) return fail('The OpenID configuration is missing its endpoints.');
    doc = parsed.data;
  } catch (err) {
    return fail(`OpenID discovery failed: ${(err as Error).message}`);
  }
  if (doc.issuer.replace(/\/+$/, '') !== base) return fail('The OpenID configuration names a different issuer.');
  // RFC 7636 / MCP authorization: without S256 listed we cannot know PKCE is enforced, so refuse.
  if (!doc.code_challenge_methods_supported?.includes('S256')) {
    const listed = doc.code_challenge_methods_supported?.length
      ? `lists only ${doc.code_challenge_methods_supported.join(', ')}`
      : 'does not list code_challenge_methods_supported';
    return {
      ok: false as const,
      code: 'no_pkce' as const,
      error: `The issuer's OpenID configuration ${listed}, so PKCE S256 is not guaranteed; use an issuer that supports S256.`,
    };
  }
  for (const u of [doc.authorization_endpoint, doc.token_endpoint, doc.userinfo_endpoint, doc.revocation_endpoint]) {
    if (u === undefined) continue;
    const c = await d.net.checkTarget(u);
    if (!c.ok) return { ok: false as const, code: 'bad_url' as const, error: urlRefusal('A discovered endpoint', c) };
  }
  return {
    ok: true as const,
    displayName: new URL(base).host,
    issuer: doc.issuer,
    authorizeUrl: doc.authorization_endpoint,
    tokenUrl: doc.token_endpoint,
    userinfoUrl: doc.userinfo_endpoint,
    revokeUrl: doc.revocation_endpoint,
    scopes: ['openid', 'profile', 'email'],
    extra: { discovered: true, issParameterSupported: doc.authorization_response_iss_parameter_supported ?? false },
  };
}
