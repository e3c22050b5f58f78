import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { SealError, SealedValueMismatch } from './errors.js';

/**
 * Where a sealed value lives and whom it belongs to; all of it is bound into the AAD, so a copy
 * in another row, column or table, or a row moved to another owner, does not open.
 */
export interface SealContext {
  table: string;
  column: string;
  rowId: string;
  /** Owner fields (column name → value), e.g. org, user and provider of a grant. Build with `src/db/sealed.ts`. */
  owner: Readonly<Record<string, string>>;
}

/** The row-only context of the first format (`v1`), read only by the one-time upgrade. */
export type LegacySealContext = Pick<SealContext, 'table' | 'column' | 'rowId'>;

interface Key {
  id: string;
  raw: Buffer;
}

/** Current format: owner-bound AAD. */
const PREFIX = 'v2';
/** First format: AAD `table:column:rowId` only; opened solely by `openLegacy` during the upgrade. */
const LEGACY_PREFIX = 'v1';

// JSON keeps the fields unambiguous whatever characters an id or name holds; owner keys sorted so
// the AAD does not depend on the order a caller listed them in.
const aad = (c: SealContext) =>
  Buffer.from(
    JSON.stringify([
      'onbehalf',
      PREFIX,
      c.table,
      c.column,
      c.rowId,
      Object.entries(c.owner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    ]),
  );
const legacyAad = (c: LegacySealContext) => Buffer.from(`onbehalf:${c.table}:${c.column}:${c.rowId}`);
const where = (c: LegacySealContext) => `${c.table}.${c.column} (row ${c.rowId})`;

/**
 * AES-256-GCM sealing keys with ids. The first key seals; every key opens.
 * Format: `v2.<kid>.<base64url(iv[12] | ciphertext | tag[16])>`, AAD = table, column, row id and owner.
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

  /** Whether key `kid` is in the ring. */
  hasKey(kid: string): boolean {
    return this.#keys.some((k) => k.id === kid);
  }

  seal(plaintext: string, ctx: SealContext): string {
    const key = this.#keys[0]!;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key.raw, iv);
    cipher.setAAD(aad(ctx));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${PREFIX}.${key.id}.${Buffer.concat([iv, ct, cipher.getAuthTag()]).toString('base64url')}`;
  }

  /**
   * Opens a sealed value; throws when it cannot (never returns garbage): `SealedValueMismatch` when
   * it belongs to another row or owner, was altered, or is of the first format; `SealError` for an
   * unknown key id or a malformed value.
   */
  open(sealed: string, ctx: SealContext): string {
    const [prefix] = sealed.split('.', 1);
    if (prefix === LEGACY_PREFIX) throw new SealedValueMismatch(ctx, 'legacy');
    if (prefix !== PREFIX) throw new SealError(`sealed value in ${where(ctx)} is malformed`);
    return this.#decrypt(sealed, ctx, aad(ctx));
  }

  /** Opens a value of the first format (row-bound AAD only). Only the one-time upgrade calls this. */
  openLegacy(sealed: string, ctx: LegacySealContext): string {
    if (sealed.split('.', 1)[0] !== LEGACY_PREFIX)
      throw new SealError(`sealed value in ${where(ctx)} is not of the first format`);
    return this.#decrypt(sealed, ctx, legacyAad(ctx));
  }

  #decrypt(sealed: string, ctx: LegacySealContext, ad: Buffer): string {
    const [, kid, body] = sealed.split('.');
    if (!kid || !body) throw new SealError(`sealed value in ${where(ctx)} is malformed`);
    const key = this.#keys.find((k) => k.id === kid);
    if (!key)
      throw new SealError(
        `sealed value in ${ctx.table}.${ctx.column} uses key "${kid}", which is not in ONBEHALF_KEYS`,
      );
    const buf = Buffer.from(body, 'base64url');
    if (buf.length < 28) throw new SealError(`sealed value in ${where(ctx)} is malformed`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.raw, buf.subarray(0, 12));
      decipher.setAAD(ad);
      decipher.setAuthTag(buf.subarray(buf.length - 16));
      return Buffer.concat([decipher.update(buf.subarray(12, buf.length - 16)), decipher.final()]).toString('utf8');
    } catch {
      throw new SealedValueMismatch(ctx, 'mismatch');
    }
  }

  /** Format version of a sealed value (`v1`, `v2`), or undefined when it is not one. */
  static formatOf(sealed: string): 'v1' | 'v2' | undefined {
    const p = sealed.split('.', 1)[0];
    return p === PREFIX || p === LEGACY_PREFIX ? p : undefined;
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
