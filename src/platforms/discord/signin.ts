import { z } from 'zod';
import type { SignedIn } from '../../oauth/index.js';

/** Settings of Discord's OAuth2 `identify` sign-in. */
export interface DiscordSignInOptions {
  applicationId: string;
  clientSecret: string;
  /** `DISCORD_API_URL`; when set, the authorize page is under it too (tests, proxies). Unset: discord.com. */
  apiUrl?: string | undefined;
  /** Timeout of one request. Default 10000 ms. */
  timeoutMs?: number;
}

const me = z.looseObject({ id: z.string().min(1), username: z.string().optional(), global_name: z.string().nullish() });

/** Discord OAuth2 with scope `identify`: the code is exchanged with the application's secret and `GET /users/@me` names the user. */
export class DiscordSignIn {
  readonly #api: string;
  readonly #authorize: string;
  readonly #timeout: number;

  constructor(private readonly o: DiscordSignInOptions) {
    this.#api = (o.apiUrl ?? 'https://discord.com/api').replace(/\/+$/, '');
    this.#authorize = o.apiUrl ? `${this.#api}/oauth2/authorize` : 'https://discord.com/oauth2/authorize';
    this.#timeout = o.timeoutMs ?? 10_000;
  }

  origin(): string {
    return new URL(this.#authorize).origin;
  }

  async authorizeUrl(state: string, challenge: string, redirectUri: string): Promise<string> {
    const u = new URL(this.#authorize);
    for (const [k, v] of Object.entries({
      response_type: 'code',
      client_id: this.o.applicationId,
      scope: 'identify',
      state,
      redirect_uri: redirectUri,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      prompt: 'none',
    }))
      u.searchParams.set(k, v);
    return u.href;
  }

  async verify(code: string, verifier: string, redirectUri: string): Promise<SignedIn> {
    try {
      const res = await fetch(`${this.#api}/oauth2/token`, {
        method: 'POST',
        signal: AbortSignal.timeout(this.#timeout),
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${this.o.applicationId}:${this.o.clientSecret}`).toString('base64')}`,
        },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code,
          redirect_uri: redirectUri,
          code_verifier: verifier,
        }),
      });
      const t = z.looseObject({ access_token: z.string().min(1) }).safeParse(await res.json());
      if (!res.ok || !t.success) return { ok: false, reason: `HTTP ${res.status}` };
      const who = await fetch(`${this.#api}/users/@me`, {
        signal: AbortSignal.timeout(this.#timeout),
        headers: { authorization: `Bearer ${t.data.access_token}` },
      });
      const u = me.safeParse(who.ok ? await who.json() : undefined);
      if (!u.success) return { ok: false, reason: `users/@me answered HTTP ${who.status}` };
      // Discord users are global: no guild in the answer, so any guild the link's user is linked in matches.
      return { ok: true, workspaceId: null, userId: u.data.id, name: u.data.global_name ?? u.data.username ?? null };
    } catch {
      return { ok: false, reason: 'Discord did not answer' };
    }
  }
}
