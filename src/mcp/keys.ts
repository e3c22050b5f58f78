import { createHmac, randomBytes } from 'node:crypto';
import type { CredentialSet, PoolServer } from './transports.js';

/**
 * The pool's key of each (server, credential set): the server's launch fields and an HMAC of the
 * credentials under a random per-process key, so a key reveals nothing of them elsewhere. Kept per
 * credential set object while it is in use: listing the tools and calling one with the same set
 * (as the executor does) hash the credentials once. The set's variables and headers are frozen
 * when it is first keyed, so a kept key can never stand for other credentials.
 */
export class PoolKeys {
  readonly #fpKey = randomBytes(32);
  readonly #memo = new WeakMap<CredentialSet, { server: PoolServer; key: string }>();

  of(server: PoolServer, creds: CredentialSet): string {
    const memo = this.#memo.get(creds);
    if (memo?.server === server) return memo.key;
    const h = createHmac('sha256', this.#fpKey);
    for (const [kind, rec] of [
      ['env', creds.env],
      ['header', creds.headers],
    ] as const) {
      for (const name of Object.keys(rec).sort()) h.update(`${kind}\0${name}\0${rec[name]!.reveal()}\0`);
    }
    const key = `${server.id}:${server.transport}:${server.url ?? ''}:${server.command ?? ''}:${JSON.stringify(server.args)}:${h.digest('base64url')}`;
    Object.freeze(creds.env);
    Object.freeze(creds.headers);
    this.#memo.set(creds, { server, key });
    return key;
  }
}
