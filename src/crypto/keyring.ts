import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { SealError } from './errors.js';

/** Where a sealed value lives; bound into the AAD so a copy elsewhere does not open. */
export interface SealContext {
  table: string;
  column: string;
  rowId: string;
}

interface Key {
  id: string;
  raw: Buffer;
}

const PREFIX = 'v1';
const aad = (c: SealContext) => Buffer.from(`onbehalf:${c.table}:${c.column}:${c.rowId}`);

/**
 * AES-256-GCM sealing keys with ids. The first key seals; every key opens.
 * Format: `v1.<kid>.<base64url(iv[12] | ciphertext | tag[16])>`.
 */
export class Keyring {
  readonly #keys: Key[];

  constructor(entries: string[]) {
    if (entries.length === 0) throw new SealError('no sealing keys configured (set ONBEHALF_KEYS)');
    this.#keys = entries.map((e) => {
      const i = e.indexOf(':');
      const raw = Buffer.from(e.slice(i + 1), 'base64');
      if (i < 1 || raw.length !== 32) throw new SealError('each sealing key must be id:base64 of 32 bytes');
      return { id: e.slice(0, i), raw };
    });
  }

  /** Id of the key new values are sealed with. */
  get currentKeyId(): string {
    return this.#keys[0]!.id;
  }

  seal(plaintext: string, ctx: SealContext): string {
    const key = this.#keys[0]!;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key.raw, iv);
    cipher.setAAD(aad(ctx));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${PREFIX}.${key.id}.${Buffer.concat([iv, ct, cipher.getAuthTag()]).toString('base64url')}`;
  }

  /** Opens a sealed value; throws SealError when it cannot (never returns garbage). */
  open(sealed: string, ctx: SealContext): string {
    const [prefix, kid, body] = sealed.split('.');
    if (prefix !== PREFIX || !kid || !body) throw new SealError(`sealed value in ${ctx.table}.${ctx.column} is malformed`);
    const key = this.#keys.find((k) => k.id === kid);
    if (!key) throw new SealError(`sealed value in ${ctx.table}.${ctx.column} uses key "${kid}", which is not in ONBEHALF_KEYS`);
    const buf = Buffer.from(body, 'base64url');
    if (buf.length < 28) throw new SealError(`sealed value in ${ctx.table}.${ctx.column} is malformed`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.raw, buf.subarray(0, 12));
      decipher.setAAD(aad(ctx));
      decipher.setAuthTag(buf.subarray(buf.length - 16));
      return Buffer.concat([decipher.update(buf.subarray(12, buf.length - 16)), decipher.final()]).toString('utf8');
    } catch {
      throw new SealError(`sealed value in ${ctx.table}.${ctx.column} does not open: tampered, moved, or a wrong key`);
    }
  }

  /** Key id a sealed value was sealed with. */
  static keyIdOf(sealed: string): string | undefined {
    return sealed.split('.')[1];
  }

  /** A purpose-bound 32-byte key derived from sealing key `kid` (default: the current one). */
  derive(purpose: string, kid: string = this.currentKeyId): { kid: string; key: Uint8Array } | undefined {
    const key = this.#keys.find((k) => k.id === kid);
    if (!key) return undefined;
    return { kid, key: new Uint8Array(hkdfSync('sha256', key.raw, Buffer.alloc(0), `onbehalf:${purpose}`, 32)) };
  }
}

/** A fresh key entry `id:base64` for ONBEHALF_KEYS. */
export function generateKeyEntry(id = `k${Date.now().toString(36)}`): string {
  return `${id}:${randomBytes(32).toString('base64')}`;
}

/**
 * Loads the development key from `<dataDir>/dev.key`, creating it (mode 0600) on first use.
 * Returns whether it was created, so the caller can warn.
 */
export function loadOrCreateDevKey(dataDir: string): { entry: string; created: boolean } {
  const file = path.join(dataDir, 'dev.key');
  if (existsSync(file)) return { entry: readFileSync(file, 'utf8').trim(), created: false };
  mkdirSync(dataDir, { recursive: true });
  const entry = generateKeyEntry('dev');
  writeFileSync(file, entry + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return { entry, created: true };
}
