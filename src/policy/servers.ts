import { z } from 'zod';
import type { mcpServers } from '../db/schema.js';

export type McpServerRow = typeof mcpServers.$inferSelect;

/** Default per-call deadline when a server does not set its own. */
export const DEFAULT_TIMEOUT_MS = 30_000;

const name = z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, 'a server name is 1–40 letters, digits, dashes or underscores');
const timeoutMs = z.number().int().min(100, 'the timeout must be at least 100 ms').max(600_000, 'the timeout must be at most 600000 ms (10 minutes)');

/** What an admin or the operator gives to add a server. */
export const serverInputSchema = z.discriminatedUnion('transport', [
  z.object({
    name,
    transport: z.literal('http'),
    url: z.string().url('the URL is not valid').refine((u) => /^https?:\/\//.test(u), 'the URL must start with http:// or https://'),
    timeoutMs: timeoutMs.optional(),
  }),
  z.object({
    name,
    transport: z.literal('stdio'),
    command: z.string().min(1, 'a stdio server needs a command').max(500),
    args: z.array(z.string().max(2000)).max(64).default([]),
    timeoutMs: timeoutMs.optional(),
  }),
]);
export type ServerInput = z.input<typeof serverInputSchema>;

/** Whether a URL names a loopback, private, link-local or metadata address by literal. */
export function isPrivateHost(url: string): boolean {
  const h = new URL(url).hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost') || h === '::1' || h === '::' || h.startsWith('fe80:') || h.startsWith('fc') || h.startsWith('fd')) return true;
  const m = h.match(/^(\d+)\.(\d+)\.(\d+)\.(\d+)$/);
  if (!m) return false;
  const [a, b] = [Number(m[1]), Number(m[2])];
  return a === 127 || a === 10 || a === 0 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127);
}
