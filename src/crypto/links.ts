import { jwtVerify, SignJWT, decodeProtectedHeader, errors as joseErrors } from 'jose';
import type { Keyring } from './keyring.js';

const ISSUER = 'onbehalf';

/** Result of verifying a signed link: its claims, or why it is not valid. */
export type LinkCheck<T> =
  { kind: 'ok'; claims: T; jti: string; expiresAt: number } | { kind: 'expired' } | { kind: 'invalid' };

/**
 * Short-lived HS256 JWTs for URLs (`/oauth/start?t=…`), keyed by a key derived from the sealing
 * keyring, so they rotate with it. `purpose` is the audience: a link for one use never verifies
 * for another.
 */
export class LinkSigner {
  constructor(private readonly keyring: Keyring) {}

  /** Signs `claims` for `purpose`, valid `ttlSeconds` (default 600). */
  async sign(purpose: string, claims: Record<string, unknown>, ttlSeconds = 600): Promise<string> {
    const { kid, key } = this.keyring.derive('links')!;
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', kid, typ: 'onbehalf-link+jwt' })
      .setIssuer(ISSUER)
      .setAudience(purpose)
      .setJti(crypto.randomUUID())
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
      .sign(key);
  }

  /** Verifies signature, purpose and expiry. Single use is the caller's (by `jti`). */
  async verify<T>(purpose: string, token: string): Promise<LinkCheck<T>> {
    try {
      const { kid } = decodeProtectedHeader(token);
      const derived = typeof kid === 'string' ? this.keyring.derive('links', kid) : undefined;
      if (!derived) return { kind: 'invalid' };
      const { payload } = await jwtVerify(token, derived.key, {
        algorithms: ['HS256'],
        issuer: ISSUER,
        audience: purpose,
        typ: 'onbehalf-link+jwt',
        requiredClaims: ['jti', 'exp'],
      });
      return { kind: 'ok', claims: payload as T, jti: payload.jti!, expiresAt: payload.exp! * 1000 };
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) return { kind: 'expired' };
      return { kind: 'invalid' };
    }
  }
}
