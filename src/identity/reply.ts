import { z } from 'zod';

/**
 * Where a reply goes, stored in job data so any process (a worker with no gateway connection)
 * can post it through the platform's Web API / REST. Holds ids only, never a credential;
 * the Discord interaction token is a reply handle valid 15 minutes, not a credential of ours.
 */
export const replyTargetSchema = z.object({
  platform: z.enum(['slack', 'discord', 'shell']),
  workspaceId: z.string(),
  channelId: z.string(),
  /** Slack `thread_ts`, Discord thread channel id; absent: reply in the channel. */
  threadId: z.string().optional(),
  /** The message that started this (for replies and permalinks). */
  messageId: z.string().optional(),
  /** The platform user id of the caller (who alone sees private messages). */
  userId: z.string(),
  isDirect: z.boolean().default(false),
  /**
   * Discord interaction webhook (`token`, valid 15 min) or Slack `responseUrl` (slash commands and
   * block actions; valid 30 min, 5 uses). Reply handles, not credentials, but never logged in full.
   */
  interaction: z
    .object({
      id: z.string().optional(),
      token: z.string().optional(),
      responseUrl: z.string().optional(),
      expiresAt: z.number().optional(),
    })
    .optional(),
});
export type ReplyTarget = z.infer<typeof replyTargetSchema>;
