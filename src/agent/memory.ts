import { and, desc, eq } from 'drizzle-orm';
import { newId, type Db } from '../db/index.js';
import { threadMessages } from '../db/schema.js';
import type { ReplyTarget } from '../chat/types.js';

/** The conversation a target belongs to: its thread if it has one, else its channel. */
export const threadKey = (t: ReplyTarget): string => `${t.platform}:${t.workspaceId}:${t.channelId}:${t.threadId ?? ''}`;

/** Per-thread memory of recent turns, in the DB. */
export class ThreadMemory {
  /** `keep`: how many recent messages a turn sees. Default 20. */
  constructor(private readonly db: Db, private readonly keep = 20) {}

  append(orgId: string, key: string, role: 'user' | 'assistant', content: string): void {
    this.db.insert(threadMessages).values({ id: newId(), orgId, threadKey: key, role, content: content.slice(0, 8000), createdAt: Date.now() }).run();
  }

  /** The most recent messages of a thread, oldest first. */
  recent(orgId: string, key: string): { role: 'user' | 'assistant'; content: string }[] {
    const rows = this.db
      .select()
      .from(threadMessages)
      .where(and(eq(threadMessages.orgId, orgId), eq(threadMessages.threadKey, key)))
      .orderBy(desc(threadMessages.createdAt))
      .limit(this.keep)
      .all();
    return rows.reverse().filter((r) => r.role !== 'tool').map((r) => ({ role: r.role as 'user' | 'assistant', content: r.content }));
  }
}
