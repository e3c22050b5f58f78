import { z } from 'zod';
import { refusalOf, upstreamDetail, type UrlCheck } from '../net/index.js';
import { defaults, type OAuthDeps } from './deps.js';
import type { DiscoveryFailure, ProviderRefusal } from './results.js';

const oidcConfig = z.looseObject({
  issuer: z.string(),
  authorization_endpoint: z.string(),
  token_endpoint: z.string(),
  userinfo_endpoint: z.string().optional(),
  revocation_endpoint: z.string().optional(),
  code_challenge_methods_supported: z.array(z.string()).optional(),
  authorization_response_iss_parameter_supported: z.boolean().optional(),
});

/** A refused URL: `option` names the admin's option, or null for a discovered endpoint. */
export const urlRefusal = (option: string | null, c: Extract<UrlCheck, { ok: false }>): ProviderRefusal => ({
  kind: 'bad_url',
  option,
  refusal: refusalOf(c),
});

const refuse = (error: ProviderRefusal) => ({ ok: false as const, error });

/** OpenID discovery from the issuer, through the SSRF guard; the issuer in the document must match. */
export async function discoverOidc(d: Pick<OAuthDeps, 'net' | 'options'>, issuer: string) {
  const base = issuer.replace(/\/+$/, '');
  const fail = (why: DiscoveryFailure) => refuse({ kind: 'discovery_failed', ...why });
  let doc: z.infer<typeof oidcConfig>;
  try {
    const res = await d.net.fetch({ timeoutMs: d.options?.httpTimeoutMs ?? defaults.httpTimeoutMs })(
      `${base}/.well-known/openid-configuration`,
      { headers: { accept: 'application/json' } },
    );
    if (!res.ok) return fail({ cause: 'status', host: new URL(base).host, status: res.status });
    const parsed = oidcConfig.safeParse(await res.json());
    if (!parsed.success) return fail({ cause: 'no_endpoints' });
    doc = parsed.data;
  } catch (err) {
    return fail({ cause: 'fetch', detail: upstreamDetail(err) });
  }
  if (doc.issuer.replace(/\/+$/, '') !== base) return fail({ cause: 'other_issuer' });
  // RFC 7636 / MCP authorization: without S256 listed we cannot know PKCE is enforced, so refuse.
  if (!doc.code_challenge_methods_supported?.includes('S256'))
    return refuse({ kind: 'no_pkce', listed: doc.code_challenge_methods_supported ?? [] });
  for (const u of [doc.authorization_endpoint, doc.token_endpoint, doc.userinfo_endpoint, doc.revocation_endpoint]) {
    if (u === undefined) continue;
    const c = await d.net.checkTarget(u);
    if (!c.ok) return refuse(urlRefusal(null, c));
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
