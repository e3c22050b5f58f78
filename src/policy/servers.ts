import { z } from 'zod';
import type { mcpServers } from '../db/schema/index.js';
import { serverNameSchema } from '../names.js';
import type { InputIssueCode } from './input.js';

export type McpServerRow = typeof mcpServers.$inferSelect;

/** One server as the admin's list shows it (bindings as `target NAME=source`, static values hidden). */
export interface ServerListing {
  name: string;
  transport: string;
  target: string;
  privateResults: boolean;
  bindings: string[];
}

/** Default per-call deadline when a server does not set its own. */
export const DEFAULT_TIMEOUT_MS = 30_000;

const name = serverNameSchema;
const timeoutMs = z
  .number()
  .int()
  .min(100, 'timeout_min' satisfies InputIssueCode)
  .max(600_000, 'timeout_max' satisfies InputIssueCode);

/** What an admin or the operator gives to add a server. */
export const serverInputSchema = z.discriminatedUnion('transport', [
  z.object({
    name,
    transport: z.literal('http'),
    url: z
      .string()
      .url('url_invalid' satisfies InputIssueCode)
      .refine((u) => /^https?:\/\//.test(u), 'url_scheme' satisfies InputIssueCode),
    timeoutMs: timeoutMs.optional(),
  }),
  z.object({
    name,
    transport: z.literal('stdio'),
    command: z
      .string()
      .min(1, 'stdio_command' satisfies InputIssueCode)
      .max(500),
    args: z.array(z.string().max(2000)).max(64).default([]),
    timeoutMs: timeoutMs.optional(),
  }),
]);
export type ServerInput = z.input<typeof serverInputSchema>;
