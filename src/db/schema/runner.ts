// Tool calls (queued, parked, held, done) and the conversation turns the agent remembers.
import { sql } from 'drizzle-orm';
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { createdAt, id } from './columns.js';
import { orgId, userId } from './identity.js';
import type { Delivery, ReplyTarget, StoredOutcome } from './shapes.js';

/** One call of one tool for one user, including parked and held ones. */
export const toolCalls = sqliteTable(
  'tool_calls',
  {
    id: id(),
    orgId: orgId(),
    userId: userId(),
    serverId: text('server_id').notNull(),
    tool: text('tool').notNull(),
    args: text('args', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    status: text('status', {
      enum: [
        'queued',
        'running',
        'parked',
        'awaiting_approval',
        'succeeded',
        'failed',
        'denied',
        'cancelled',
        'interrupted',
      ],
    }).notNull(),
    /** Provider whose grant the parked call waits for. */
    parkedProviderId: text('parked_provider_id'),
    /** Where the result goes (platform, channel, thread, user), as JSON. */
    replyTarget: text('reply_target', { mode: 'json' }).$type<ReplyTarget>().notNull(),
    /** The agent turn this call belongs to, if any. */
    turnId: text('turn_id'),
    requestId: text('request_id').notNull(),
    outcome: text('outcome', { mode: 'json' }).$type<StoredOutcome>(),
    /** Where the answer is delivered: the placeholder message to edit, or a marker that a post began. */
    delivery: text('delivery', { mode: 'json' }).$type<Delivery>(),
    attempts: integer('attempts').notNull().default(0),
    createdAt: createdAt(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    index('tool_calls_parked').on(t.orgId, t.userId, t.status, t.parkedProviderId),
    index('tool_calls_status').on(t.status, t.updatedAt),
    // The calls that count against their user's queued-calls cap (runner/calls.ts `pending`): enqueue
    // counts them, and on Postgres a count over every call the user ever made grows with the table
    // and its dead row versions. Plain SQL, so Postgres gets the same predicate (pg/derive.ts).
    index('tool_calls_pending')
      .on(t.orgId, t.userId)
      .where(sql`status in ('queued', 'running', 'awaiting_approval')`),
  ],
);

/** Recent turns of a conversation thread, the agent's memory, each with its author. */
export const threadMessages = sqliteTable(
  'thread_messages',
  {
    id: id(),
    orgId: orgId(),
    threadKey: text('thread_key').notNull(),
    role: text('role', { enum: ['user', 'assistant', 'tool'] }).notNull(),
    content: text('content').notNull(),
    /** Whose turn: who wrote a `user` row, whom an `assistant` row answered, whose call a `tool` row was. Null on rows from before authors were kept. */
    userId: text('user_id'),
    /** Display name of the author: the person (`user`), the bot (`assistant`), `server.tool` (`tool`). */
    author: text('author'),
    /** The turn the row belongs to (a resumed call finds its question by it). */
    requestId: text('request_id'),
    /** `tool` rows: the call (runner call id, server, tool, arguments). */
    toolCall: text('tool_call', { mode: 'json' }).$type<{
      callId: string;
      server: string;
      tool: string;
      args: Record<string, unknown>;
    }>(),
    createdAt: createdAt(),
    /** Place in its thread: later messages have larger numbers (the next is one past the thread's largest). */
    seq: integer('seq').notNull().default(0),
  },
  (t) => [uniqueIndex('thread_messages_seq').on(t.orgId, t.threadKey, t.seq)],
);
