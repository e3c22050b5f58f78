import { createPrivateKey, randomUUID, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Secret } from '../crypto/index.js';

/** RFC 7523 §2.2: how a client assertion is named on a token request. */
export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Life of one client assertion: the token request follows at once. */
const ASSERTION_SECONDS = 60;

/**
 * A private key as an admin pastes it: PEM (PKCS#8, SEC1 or PKCS#1) whose line breaks may have
 * become spaces in a one-line input, or a private JWK. Undefined when it is neither.
 */
export function readPrivateKey(text: string): KeyObject | undefined {
  const t = text.trim();
  try {
    if (t.startsWith('{')) return createPrivateKey({ key: JSON.parse(t) as never, format: 'jwk' });
    const m = t.match(/^-----BEGIN ([A-Z ]+)-----(.+?)-----END \1-----$/s);
    if (!m) return undefined;
    const body = m[2]!.replace(/\\n|\s+/g, '');
    const lines = body.match(/.{1,64}/g) ?? [];
    return createPrivateKey(`-----BEGIN ${m[1]}-----\n${lines.join('\n')}\n-----END ${m[1]}-----\n`);
  } catch {
    return undefined;
  }
}

/** The JWS algorithm for a key: ES256/384/512 by curve, RS256 for RSA, EdDSA for Ed25519. */
export function algorithmOf(key: KeyObject, supported?: string[]): string | undefined {
  const d = key.asymmetricKeyDetails;
  const pick = (alg: string) => (!supported?.length || supported.includes(alg) ? alg : undefined);
  switch (key.asymmetricKeyType) {
    case 'ec':
      return pick({ prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' }[d?.namedCurve ?? ''] ?? '');
    case 'rsa':
      return supported?.length ? supported.find((a) => /^(RS|PS)(256|384|512)$/.test(a)) : 'RS256';
    case 'ed25519':
      return pick('EdDSA');
    default:
      return undefined;
  }
}

/**
 * `private_key_jwt` (RFC 7523 §2.2, OIDC Core 9): a short-lived JWT the client signs with its
 * key, issued by and about itself, for the authorization server (`audience`: its issuer).
 */
export async function clientAssertion(
  clientId: string,
  key: Secret,
  audience: string,
  supported?: string[],
): Promise<string | undefined> {
  const k = readPrivateKey(key.reveal());
  const alg = k && algorithmOf(k, supported);
  if (!k || !alg) return undefined;
  return new SignJWT({})
    .setProtectedHeader({ alg, typ: 'JWT' })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(audience)
    .setIssuedAt()
    .setExpirationTime(`${ASSERTION_SECONDS}s`)
    .setJti(randomUUID())
    .sign(k);
}
