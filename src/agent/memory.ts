import { and, desc, eq, lt, ne, sql } from 'drizzle-orm';
import { newId, type Store, type Tables } from '../db/index.js';
import type { threadMessages } from '../db/schema/index.js';
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

/** The messages of one person's turn in one thread, of one role. */
const inTurn = (
  t: Tables['threadMessages'],
  orgId: string,
  key: string,
  requestId: string,
  userId: string,
  role: 'user' | 'tool',
) => and(eq(t.orgId, orgId), eq(t.threadKey, key), eq(t.requestId, requestId), eq(t.userId, userId), eq(t.role, role));

/** Per-thread memory of recent turns, in the DB, each message with its author. */
export class ThreadMemory {
  /** `keep`: how many recent messages a turn sees. Default 20. */
  constructor(
    private readonly store: Store,
    private readonly keep = 20,
  ) {}

  async append(orgId: string, key: string, m: Remembered): Promise<void> {
    await this.store.tx(async (tx) => {
      // The next seq is one past the thread's largest: the thread's advisory lock keeps two appends (any process) from taking the same one.
      await tx.lock(`thread:${orgId}:${key}`);
      const t = tx.t.threadMessages;
      const next = sql`(select coalesce(max(${t.seq}), 0) + 1 from ${t} where ${t.orgId} = ${orgId} and ${t.threadKey} = ${key})`;
      await tx.changes(
        tx.db.insert(t).values({
          id: newId(),
          orgId,
          threadKey: key,
          role: m.role,
          content: m.content.slice(0, MAX_CONTENT),
          createdAt: Date.now(),
          userId: m.userId,
          requestId: m.requestId,
          author:
            m.role === 'user' ? m.author : m.role === 'assistant' ? BOT_AUTHOR : `${m.call.server}.${m.call.tool}`,
          toolCall: m.role === 'tool' ? m.call : null,
          seq: next,
        }),
      );
    });
  }

  /** The most recent people's and bot's messages of a thread (tool rows left out), oldest first; with `beforeSeq`, only those before it. */
  async recent(orgId: string, key: string, beforeSeq?: number): Promise<Stored[]> {
    const t = this.store.t.threadMessages;
    const rows = await this.store.rows(
      this.store.db
        .select()
        .from(t)
        .where(
          and(
            eq(t.orgId, orgId),
            eq(t.threadKey, key),
            ne(t.role, 'tool'),
            beforeSeq === undefined ? undefined : lt(t.seq, beforeSeq),
          ),
        )
        .orderBy(desc(t.seq))
        .limit(this.keep),
    );
    return rows.reverse().map(stored);
  }

  /**
   * What a thread's memory already holds of people's messages: their request ids (a message read
   * from the platform is kept under `thread:<message id>`) and their texts, to tell what is new.
   */
  async known(orgId: string, key: string): Promise<{ requestIds: Set<string>; texts: Set<string> }> {
    const t = this.store.t.threadMessages;
    const rows = await this.store.rows(
      this.store.db
        .select({ requestId: t.requestId, content: t.content })
        .from(t)
        .where(and(eq(t.orgId, orgId), eq(t.threadKey, key), eq(t.role, 'user'))),
    );
    return {
      requestIds: new Set(rows.map((r) => r.requestId ?? '')),
      texts: new Set(rows.map((r) => r.content)),
    };
  }

  /** The message a person's turn started with, or undefined when memory no longer holds it. */
  async question(orgId: string, key: string, requestId: string, userId: string): Promise<Stored | undefined> {
    const t = this.store.t.threadMessages;
    const row = await this.store.first(
      this.store.db
        .select()
        .from(t)
        .where(inTurn(t, orgId, key, requestId, userId, 'user'))
        .orderBy(t.seq)
        .limit(1),
    );
    return row && stored(row);
  }

  /** A call made in a person's turn: by its call id, else the latest one of that server and tool. */
  async call(
    orgId: string,
    key: string,
    requestId: string,
    userId: string,
    which: { callId?: string | undefined; server: string; tool: string },
  ): Promise<RememberedCall | undefined> {
    const t = this.store.t.threadMessages;
    const rows = await this.store.rows(
      this.store.db
        .select({ toolCall: t.toolCall })
        .from(t)
        .where(inTurn(t, orgId, key, requestId, userId, 'tool'))
        .orderBy(desc(t.seq)),
    );
    const calls = rows.map((r) => r.toolCall).filter((c): c is RememberedCall => Boolean(c));
    return which.callId
      ? calls.find((c) => c.callId === which.callId)
      : calls.find((c) => c.server === which.server && c.tool === which.tool);
  }
}

function stored(r: typeof threadMessages.$inferSelect): Stored {
  const { seq } = r;
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
