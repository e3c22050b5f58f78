import { createHmac, timingSafeEqual } from 'node:crypto';

/** Why a request was refused. Logged (never shown to the sender, who gets an opaque 401). */
export type VerifyResult =
  | { ok: true }
  | { ok: false; reason: 'missing_headers' | 'bad_version' | 'bad_timestamp' | 'stale_timestamp' | 'bad_signature' };

export interface VerifyInput {
  signingSecret: string;
  /** The raw body exactly as received; the HMAC is over these bytes. */
  rawBody: string;
  signature: string | undefined | null;
  timestamp: string | undefined | null;
  /** Clock, ms. Default `Date.now()`. */
  nowMs?: number;
  /** Oldest accepted request age (replay window). Default 300 s, Slack's own recommendation. */
  maxAgeSeconds?: number;
}

const SIGNATURE = /^v0=([0-9a-f]{64})$/;

/**
 * Verifies Slack's request signature: `v0=` + HMAC-SHA256(secret, `v0:<ts>:<rawBody>`),
 * compared in constant time, with the timestamp inside the replay window (either direction).
 */
export function verifySlackRequest(input: VerifyInput): VerifyResult {
  const { signature, timestamp } = input;
  if (!signature || !timestamp) return { ok: false, reason: 'missing_headers' };
  const match = SIGNATURE.exec(signature);
  if (!match) return { ok: false, reason: signature.startsWith('v0=') ? 'bad_signature' : 'bad_version' };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'bad_timestamp' };
  const ageSeconds = Math.abs((input.nowMs ?? Date.now()) / 1000 - Number(timestamp));
  if (ageSeconds > (input.maxAgeSeconds ?? 300)) return { ok: false, reason: 'stale_timestamp' };
  const expected = createHmac('sha256', input.signingSecret).update(`v0:${timestamp}:${input.rawBody}`).digest();
  const given = Buffer.from(match[1]!, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, reason: 'bad_signature' };
  return { ok: true };
}
