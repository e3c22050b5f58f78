import { and, desc, eq, lt, ne, sql } from 'drizzle-orm';
import { newId, type Db } from '../db/index.js';
import { threadMessages } from '../db/schema/index.js';
import type { ReplyTarget } from '../identity/reply.js';

/** The conversation a target belongs to: its thread if it has one, else its channel. */
export const threadKey = (t: ReplyTarget): string =>
  `${t.platform}:${t.workspaceId}:${t.channelId}:${t.threadId ?? ''}`;

/** The name the bot's own messages carry in memory. */
export const BOT_AUTHOR = 'onbehalf';

/** A call the agent made, as memory keeps it beside its result. */
export interface RememberedCall {
  /** The runner's call id (the tool-call id the model sees when the call resumes). */
  callId: string;
  server: string;
  tool: string;
  args: Record<string, unknown>;
}

/**
 * One message of a thread with its author. `userId` is whose turn it was: the person who wrote a
 * `user` message, the person an `assistant` reply answered, the person whose grants a `tool` call
 * used. Null only on rows stored before authors were kept (their author is unknown).
 */
export type Remembered =
  | { role: 'user'; userId: string | null; author: string; requestId: string | null; content: string }
  | { role: 'assistant'; userId: string | null; requestId: string | null; content: string }
  | { role: 'tool'; userId: string; requestId: string; call: RememberedCall; content: string };

/** A remembered message and its place in the thread (later messages have larger `seq`). */
export type Stored = Remembered & { seq: number };

/** Longest content kept per message. */
const MAX_CONTENT = 8000;

/** Per-thread memory of recent turns, in the DB, each message with its author. */
/** The messages of one person's turn in one thread, of one role. */
const inTurn = (orgId: string, key: string, requestId: string, userId: string, role: 'user' | 'tool') =>
  and(
    eq(threadMessages.orgId, orgId),
    eq(threadMessages.threadKey, key),
    eq(threadMessages.requestId, requestId),
    eq(threadMessages.userId, userId),
    eq(threadMessages.role, role),
  );

export class ThreadMemory {
  /** `keep`: how many recent messages a turn sees. Default 20. */
  constructor(
    private readonly db: Db,
    private readonly keep = 20,
  ) {}

  append(orgId: string, key: string, m: Remembered): void {
    this.db
      .insert(threadMessages)
      .values({
        id: newId(),
        orgId,
        threadKey: key,
        role: m.role,
        content: m.content.slice(0, MAX_CONTENT),
        createdAt: Date.now(),
        userId: m.userId,
        requestId: m.requestId,
        author: m.role === 'user' ? m.author : m.role === 'assistant' ? BOT_AUTHOR : `${m.call.server}.${m.call.tool}`,
        toolCall: m.role === 'tool' ? m.call : null,
      })
      .run();
  }

  /** The most recent people's and bot's messages of a thread (tool rows left out), oldest first; with `beforeSeq`, only those before it. */
  recent(orgId: string, key: string, beforeSeq?: number): Stored[] {
    const rows = this.db
      .select({ seq: sql<number>`rowid`, row: threadMessages })
      .from(threadMessages)
      .where(
        and(
          eq(threadMessages.orgId, orgId),
          eq(threadMessages.threadKey, key),
          ne(threadMessages.role, 'tool'),
          beforeSeq === undefined ? undefined : lt(sql`rowid`, beforeSeq),
        ),
      )
      .orderBy(desc(threadMessages.createdAt), desc(sql`rowid`))
      .limit(this.keep)
      .all();
    return rows.reverse().map(({ seq, row }) => stored(seq, row));
  }

  /**
   * What a thread's memory already holds of people's messages: their request ids (a message read
   * from the platform is kept under `thread:<message id>`) and their texts, to tell what is new.
   */
  known(orgId: string, key: string): { requestIds: Set<string>; texts: Set<string> } {
    const rows = this.db
      .select({ requestId: threadMessages.requestId, content: threadMessages.content })
      .from(threadMessages)
      .where(and(eq(threadMessages.orgId, orgId), eq(threadMessages.threadKey, key), eq(threadMessages.role, 'user')))
      .all();
    return {
      requestIds: new Set(rows.map((r) => r.requestId ?? '')),
      texts: new Set(rows.map((r) => r.content)),
    };
  }

  /** The message a person's turn started with, or undefined when memory no longer holds it. */
  question(orgId: string, key: string, requestId: string, userId: string): Stored | undefined {
    const row = this.db
      .select({ seq: sql<number>`rowid`, row: threadMessages })
      .from(threadMessages)
      .where(inTurn(orgId, key, requestId, userId, 'user'))
      .orderBy(sql`rowid`)
      .get();
    return row && stored(row.seq, row.row);
  }

  /** A call made in a person's turn: by its call id, else the latest one of that server and tool. */
  call(
    orgId: string,
    key: string,
    requestId: string,
    userId: string,
    which: { callId?: string | undefined; server: string; tool: string },
  ): RememberedCall | undefined {
    const calls = this.db
      .select({ toolCall: threadMessages.toolCall })
      .from(threadMessages)
      .where(inTurn(orgId, key, requestId, userId, 'tool'))
      .orderBy(desc(sql`rowid`))
      .all()
      .map((r) => r.toolCall)
      .filter((c): c is RememberedCall => Boolean(c));
    return which.callId
      ? calls.find((c) => c.callId === which.callId)
      : calls.find((c) => c.server === which.server && c.tool === which.tool);
  }
}

function stored(seq: number, r: typeof threadMessages.$inferSelect): Stored {
  if (r.role === 'user')
    return { seq, role: 'user', userId: r.userId, author: r.author ?? '', requestId: r.requestId, content: r.content };
  if (r.role === 'assistant')
    return { seq, role: 'assistant', userId: r.userId, requestId: r.requestId, content: r.content };
  return {
    seq,
    role: 'tool',
    userId: r.userId ?? '',
    requestId: r.requestId ?? '',
    call: r.toolCall ?? { callId: '', server: '', tool: '', args: {} },
    content: r.content,
  };
}
