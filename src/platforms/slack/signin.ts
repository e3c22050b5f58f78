import { decodeJwt } from 'jose';
import { z } from 'zod';
import type { SignedIn } from '../../oauth/index.js';

/** Settings of Sign in with Slack: the app's client and the OpenID issuer (`SLACK_OIDC_ISSUER`). */
export interface SlackSignInOptions {
  clientId: string;
  clientSecret: string;
  /** Default https://slack.com. */
  issuer: string;
  /** Timeout of one request. Default 10000 ms. */
  timeoutMs?: number;
}

const discovery = z.looseObject({
  issuer: z.string(),
  authorization_endpoint: z.string().url(),
  token_endpoint: z.string().url(),
});
const tokenAnswer = z.looseObject({
  ok: z.boolean().optional(),
  id_token: z.string().optional(),
  error: z.string().optional(),
});
const claims = z.looseObject({
  iss: z.string(),
  aud: z.union([z.string(), z.array(z.string())]),
  'https://slack.com/user_id': z.string().min(1),
  'https://slack.com/team_id': z.string().min(1),
  name: z.string().optional(),
});

/**
 * Sign in with Slack (OpenID Connect): endpoints from the issuer's discovery document, code
 * exchanged at `openid.connect.token` with the app's client secret; the id_token names the
 * Slack user and team. Received straight from the token endpoint, it is trusted once its
 * issuer and audience match (OIDC Core 3.1.3.7).
 */
export class SlackSignIn {
  #doc: z.infer<typeof discovery> | undefined;
  readonly #timeout: number;

  constructor(private readonly o: SlackSignInOptions) {
    this.#timeout = o.timeoutMs ?? 10_000;
  }

  async #discover(): Promise<z.infer<typeof discovery> | undefined> {
    if (this.#doc) return this.#doc;
    try {
      const res = await fetch(`${this.o.issuer}/.well-known/openid-configuration`, {
        signal: AbortSignal.timeout(this.#timeout),
      });
      const doc = discovery.safeParse(res.ok ? await res.json() : undefined);
      if (doc.success) this.#doc = doc.data;
    } catch {
      // Unreachable now; the next Continue tries again.
    }
    return this.#doc;
  }

  origin(): string {
    return new URL(this.o.issuer).origin;
  }

  async authorizeUrl(state: string, challenge: string, redirectUri: string): Promise<string | undefined> {
    const doc = await this.#discover();
    if (!doc) return undefined;
    const u = new URL(doc.authorization_endpoint);
    for (const [k, v] of Object.entries({
      response_type: 'code',
      scope: 'openid profile',
      client_id: this.o.clientId,
      state,
      redirect_uri: redirectUri,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    }))
      u.searchParams.set(k, v);
    return u.href;
  }

  async verify(code: string, verifier: string, redirectUri: string): Promise<SignedIn> {
    const doc = await this.#discover();
    if (!doc) return { ok: false, reason: 'Slack sign-in is unreachable' };
    try {
      const res = await fetch(doc.token_endpoint, {
        method: 'POST',
        signal: AbortSignal.timeout(this.#timeout),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          client_id: this.o.clientId,
          client_secret: this.o.clientSecret,
          code,
          redirect_uri: redirectUri,
          code_verifier: verifier,
        }),
      });
      const t = tokenAnswer.safeParse(await res.json());
      if (!t.success || t.data.ok === false || !t.data.id_token)
        return {
          ok: false,
          reason:
            t.success && t.data.error ? t.data.error.replace(/[^a-z0-9_]/gi, '').slice(0, 64) : `HTTP ${res.status}`,
        };
      const c = claims.safeParse(decodeJwt(t.data.id_token));
      if (!c.success) return { ok: false, reason: 'the id_token does not name a Slack user' };
      const aud = Array.isArray(c.data.aud) ? c.data.aud : [c.data.aud];
      if (c.data.iss.replace(/\/+$/, '') !== doc.issuer.replace(/\/+$/, '') || !aud.includes(this.o.clientId))
        return { ok: false, reason: 'the id_token is for another issuer or app' };
      return {
        ok: true,
        workspaceId: c.data['https://slack.com/team_id'],
        userId: c.data['https://slack.com/user_id'],
        name: c.data.name ?? null,
      };
    } catch {
      return { ok: false, reason: 'Slack did not answer' };
    }
  }
}
