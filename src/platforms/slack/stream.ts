import type { OutMessage, ReplyTarget, Suggestions, TaskEntry, TurnRenderer } from '../../chat/types.js';
import type { Logger } from '../../log.js';
import { escapeMrkdwn, feedbackBlock, splitText } from './render.js';

/** What a turn renderer needs of the Slack sender. */
export interface TurnSender {
  call<T = Record<string, unknown>>(workspaceId: string, method: string, args: Record<string, unknown>): Promise<T>;
  reply(target: ReplyTarget, msg: OutMessage): Promise<{ messageId?: string }>;
  placeholder(target: ReplyTarget, msg: OutMessage): Promise<{ messageId?: string }>;
  update(target: ReplyTarget, messageId: string, msg: OutMessage): Promise<void>;
}

/** Tunables of a turn's rendering; defaults beside each. */
export interface StreamTuning {
  /** Least time between two edits of the post-and-edit fallback. Default 1000 ms. */
  editEveryMs?: number;
  /** Least time between two appends of answer text to a stream (text in between is sent together). Default 500 ms. */
  appendEveryMs?: number;
}

/** Slack's limits of the streaming methods: `markdown_text` per call, and what one streamed message holds here. */
const STREAM_LIMITS = { markdownText: 12_000, message: 36_000 } as const;

const TASK_STATUS: Record<TaskEntry['state'], string> = {
  running: 'in_progress',
  done: 'complete',
  failed: 'error',
  waiting: 'pending',
};

/** A `task_update` chunk of a stream: one entry per tool call, updated by id. */
const taskChunk = (e: TaskEntry) => ({
  type: 'task_update',
  id: e.id,
  title: e.title.slice(0, 256),
  status: TASK_STATUS[e.state],
  ...(e.detail ? { details: e.detail } : {}),
});

/** Runs `fn` at most once per `everyMs`: at once when the last run is that old, else once, later. */
class Throttle {
  #last = 0;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> = Promise.resolve();
  constructor(
    private readonly everyMs: number,
    private readonly fn: () => Promise<void>,
    private readonly failed: (err: unknown) => void,
  ) {}

  poke(): Promise<void> {
    if (this.#timer) return this.#running;
    const wait = this.#last + this.everyMs - Date.now();
    if (wait <= 0) return this.#run();
    this.#timer = setTimeout(() => void this.#run(), wait);
    this.#timer.unref();
    return this.#running;
  }

  #run(): Promise<void> {
    this.#timer = undefined;
    this.#last = Date.now();
    this.#running = this.#running.then(this.fn).catch(this.failed);
    return this.#running;
  }

  /** Cancels a pending run and waits for one in flight. */
  async settle(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }
}

/**
 * One agent turn in Slack. Status: `assistant.threads.setStatus` on the thread, or, where Slack
 * refuses it (no assistant surface, no thread), a short placeholder edited in place. The answer is
 * streamed (`chat.startStream` / `appendStream` / `stopStream`, with a `task_update` entry per tool
 * call and, outside a DM, the recipient user and team Slack asks for); where streaming is refused
 * or a placeholder already stands, one message is edited with throttled updates instead. Either
 * way the finished message says the whole answer, with feedback buttons on an answer.
 */
export class SlackTurn implements TurnRenderer {
  #statusBy: 'assistant' | 'placeholder' | undefined;
  #status = '';
  #mode: 'idle' | 'stream' | 'edit' = 'idle';
  /** The streamed message, or the one edited in place. */
  #ts: string | undefined;
  readonly #tasks = new Map<string, TaskEntry>();
  #text = '';
  #streamed = '';
  readonly #edits: Throttle;
  readonly #appends: Throttle;

  constructor(
    private readonly out: TurnSender,
    private readonly target: ReplyTarget,
    private readonly log: Logger,
    tuning: StreamTuning = {},
  ) {
    const failed = (err: unknown) => log.debug({ err: (err as Error).message }, 'progress not shown in Slack');
    this.#edits = new Throttle(tuning.editEveryMs ?? 1000, () => this.#edit(), failed);
    this.#appends = new Throttle(tuning.appendEveryMs ?? 500, () => this.#appendText(), failed);
  }

  #call(method: string, args: Record<string, unknown>) {
    return this.out.call<{ ts?: string }>(this.target.workspaceId, method, args);
  }

  async status(text: string): Promise<void> {
    this.#status = text;
    if (await this.#assistantStatus(text)) return;
    if (this.#mode === 'stream') return;
    if (this.#mode === 'edit') return this.#edits.poke();
    this.#mode = 'edit';
    this.#ts = (await this.out.placeholder(this.target, { text })).messageId;
  }

  /** The thread's status through the assistant surface; false where Slack refused it (then never asked again). */
  async #assistantStatus(text: string): Promise<boolean> {
    const thread = this.target.threadId;
    if (this.#statusBy === 'placeholder' || !thread) return false;
    try {
      await this.#call('assistant.threads.setStatus', {
        channel_id: this.target.channelId,
        thread_ts: thread,
        status: text,
      });
      this.#statusBy = 'assistant';
    } catch (err) {
      if (this.#statusBy === 'assistant') throw err;
      this.log.debug({ err: (err as Error).message }, 'no assistant thread status here; using a placeholder');
      this.#statusBy = 'placeholder';
      return false;
    }
    return true;
  }

  async task(entry: TaskEntry): Promise<void> {
    this.#tasks.set(entry.id, entry);
    if (this.#mode === 'idle' && (await this.#start({ chunks: [taskChunk(entry)] }))) return;
    if (this.#mode === 'stream') {
      await this.#appends.settle();
      await this.#appendText();
      await this.#call('chat.appendStream', {
        channel: this.target.channelId,
        ts: this.#ts,
        chunks: [taskChunk(entry)],
      });
      return;
    }
    await this.#edits.poke();
  }

  async text(chunk: string): Promise<void> {
    this.#text += chunk;
    if (this.#mode === 'idle') {
      const first = this.#text.slice(0, STREAM_LIMITS.markdownText);
      if (await this.#start({ markdown_text: escapeMrkdwn(first) })) {
        this.#streamed = first;
        return;
      }
    }
    await (this.#mode === 'stream' ? this.#appends : this.#edits).poke();
  }

  /** Starts the stream with its first content; false (and the post-and-edit fallback from then on) where Slack refuses it. */
  async #start(first: { chunks: Record<string, unknown>[] } | { markdown_text: string }): Promise<boolean> {
    const t = this.target;
    if (t.threadId) {
      try {
        const r = await this.#call('chat.startStream', {
          channel: t.channelId,
          thread_ts: t.threadId,
          ...(t.isDirect ? {} : { recipient_user_id: t.userId, recipient_team_id: t.workspaceId }),
          ...first,
        });
        if (r.ts) {
          this.#mode = 'stream';
          this.#ts = r.ts;
          return true;
        }
      } catch (err) {
        this.log.info({ err: (err as Error).message }, 'streaming refused; posting and editing the answer instead');
      }
    }
    this.#mode = 'edit';
    return false;
  }

  /** Sends the answer text not yet streamed, within the stream's limits (the rest waits for `finish`). */
  async #appendText(): Promise<void> {
    const room = STREAM_LIMITS.message - this.#streamed.length;
    const next = this.#text.slice(this.#streamed.length, this.#streamed.length + Math.max(room, 0));
    for (const piece of next ? splitText(next, STREAM_LIMITS.markdownText) : []) {
      await this.#append(piece);
      this.#streamed += piece;
    }
  }

  /** The post-and-edit view so far: one line per tool call, then the answer so far (or the status). */
  #progressText(): string {
    const lines = [...this.#tasks.values()].map((e) => e.line);
    return [...lines, this.#text || (this.#status ? `_${this.#status}_` : '')].filter(Boolean).join('\n');
  }

  async #edit(): Promise<void> {
    const text = this.#progressText();
    if (!text) return;
    if (this.#ts) await this.out.update(this.target, this.#ts, { text });
    else this.#ts = (await this.out.placeholder(this.target, { text })).messageId;
  }

  async finish(msg: OutMessage): Promise<void> {
    await this.#edits.settle();
    await this.#appends.settle();
    if (this.#mode === 'stream' && this.#ts) {
      try {
        return await this.#stop(msg);
      } catch (err) {
        // The stream broke off (expired, refused): the whole answer as a message of its own, never lost.
        this.log.warn({ err: (err as Error).message }, 'could not finish the streamed answer; posting it whole');
        await this.out.reply(this.target, msg);
        return;
      }
    }
    if (this.#ts) return this.out.update(this.target, this.#ts, msg);
    await this.out.reply(this.target, msg);
  }

  /** Stops the stream with what it still lacks of the answer, and the feedback buttons; what does not fit follows as messages. */
  async #stop(msg: OutMessage): Promise<void> {
    // An answer is the streamed text trimmed: what it adds follows the streamed part (nothing, when
    // only trailing whitespace was trimmed); any other reply follows it in a paragraph of its own.
    const sent = this.#streamed.trimStart();
    const rest = msg.text.startsWith(sent)
      ? msg.text.slice(sent.length)
      : msg.text === sent.trimEnd()
        ? ''
        : `${sent ? '\n\n' : ''}${msg.text}`;
    const room = Math.max(STREAM_LIMITS.message - this.#streamed.length, 0);
    const pieces = splitText(rest.slice(0, room), STREAM_LIMITS.markdownText).filter(Boolean);
    const last = pieces.pop();
    for (const piece of pieces) await this.#append(piece);
    await this.#call('chat.stopStream', {
      channel: this.target.channelId,
      ts: this.#ts,
      ...(last ? { markdown_text: escapeMrkdwn(last) } : {}),
      ...(msg.feedback ? { blocks: [feedbackBlock(msg.feedback.turnId)] } : {}),
    });
    const overflow = rest.slice(room);
    if (overflow) await this.out.reply(this.target, { text: overflow });
  }

  async #append(piece: string): Promise<void> {
    await this.#call('chat.appendStream', {
      channel: this.target.channelId,
      ts: this.#ts,
      markdown_text: escapeMrkdwn(piece),
    });
  }
}

/** An assistant thread's suggested prompts (Slack shows at most four). */
export async function suggestPrompts(
  out: Pick<TurnSender, 'call'>,
  target: ReplyTarget,
  s: Suggestions,
): Promise<void> {
  if (!target.threadId) return;
  const at = { channel_id: target.channelId, thread_ts: target.threadId };
  await out.call(target.workspaceId, 'assistant.threads.setSuggestedPrompts', {
    ...at,
    title: s.heading,
    prompts: s.prompts.slice(0, 4),
  });
}

/** An assistant thread's title; only threads of the app's DM are assistant threads (elsewhere: nothing). */
export async function titleAssistantThread(
  out: Pick<TurnSender, 'call'>,
  target: ReplyTarget,
  title: string,
): Promise<void> {
  if (!target.isDirect || !target.threadId) return;
  await out.call(target.workspaceId, 'assistant.threads.setTitle', {
    channel_id: target.channelId,
    thread_ts: target.threadId,
    title,
  });
}
