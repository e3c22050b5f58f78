import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { jsonSchema, stepCountIs, streamText, tool, type ModelMessage, type ToolSet } from 'ai';
import type { User } from '../identity/index.js';
import type { Logger } from '../log.js';
import type { RunResult, ToolOutcome } from '../runner/index.js';
import type { CatalogTool } from './catalog.js';
import { audienceNote, quote, threadView, type Caller } from './context.js';
import { threadKey, type ThreadMemory } from './memory.js';
import type { AgentReply, ProgressCall, ProgressPort, ToolAccount, TurnSink } from './progress.js';
import type { TurnJob } from './turns.js';

export type { AgentReply } from './progress.js';

/** What the model is shown of a thread for one turn. */
interface View {
  messages: ModelMessage[];
  others: string[];
  resumedNote?: string;
}

/** One agent turn, as the `turn` queue holds it. */
export type Turn = TurnJob;

export interface AgentOptions {
  memory: ThreadMemory;
  /**
   * Opens where a turn's progress goes (`chat/` words it, a platform renders it); its `done`
   * delivers what the agent says in the turn's conversation.
   */
  progress: ProgressPort;
  /** The accounts a call of `server` uses for this caller (progress shows them). Default none. */
  accounts?(orgId: string, userId: string, server: string): Promise<ToolAccount[]>;
  log: Logger;
  user(orgId: string, userId: string): Promise<User | undefined>;
  catalog(orgId: string, user: User, channelId: string): Promise<CatalogTool[]>;
  /** Runs one call through the runner (access, credentials, parking, audit) and waits for it. */
  runTool(turn: Turn, server: string, tool: string, args: Record<string, unknown>): Promise<RunResult>;
  /** How a tool outcome reads (worded by `chat/`): the model is told what a person would be. */
  describe(call: { server: string; tool: string }, outcome: ToolOutcome): string;
  /** Unset: direct mode. */
  llm?: { baseUrl: string; apiKey?: string; model: string };
  /** Tool-calling steps per turn. Default 6. */
  maxSteps?: number;
  /** Longest a turn may take. Default 120000 ms. */
  turnTimeoutMs?: number;
}

const SYSTEM = [
  'You are onbehalf, a support agent in a team chat. You call tools as the person you are talking to, with their own accounts.',
  'Use tools when they help; never invent tool results. Keep answers short and plain.',
  'If a tool says the person must connect an account, tell them to use the private link they were sent; the call continues by itself.',
  'Never ask for passwords, tokens or secrets.',
].join(' ');

/** What memory keeps of a private answer, so that nobody else's turn is shown it. */
const PRIVATE_MEMO = '(answered privately: the answer used a tool result that only the person who asked may see)';

/** Whether this turn used a result that goes to the caller only (`--private-results`); set by its tool calls. */
interface Privacy {
  on: boolean;
}

/** OpenAI-style tool names: `server__tool`, restricted to [A-Za-z0-9_-]{1,64}. */
const toolName = (t: Pick<CatalogTool, 'server' | 'tool'>) =>
  `${t.server}__${t.tool}`.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);

/** Runs agent turns: an LLM with the caller's tools, or direct mode's short help without one. */
export class Agent {
  constructor(private readonly o: AgentOptions) {}

  /** Processes one turn and posts the answer in its thread, showing its progress as it goes. */
  async run(turn: Turn): Promise<void> {
    const user = await this.o.user(turn.orgId, turn.userId);
    if (!user) return;
    const sink = this.o.progress(turn);
    if (this.o.llm) void sink.emit({ kind: 'thinking' });
    const tools = await this.o.catalog(turn.orgId, user, turn.target.channelId);
    if (!this.o.llm) {
      const r = turn.resumed;
      await sink.emit({
        kind: 'done',
        reply: r
          ? { kind: 'direct_resumed', server: r.server, tool: r.tool, outcome: r.outcome, private: r.private }
          : { kind: 'direct_help', tools: tools.map((t) => ({ server: t.server, tool: t.tool })) },
      });
      return;
    }
    await this.#llmTurn(turn, user, tools, sink);
  }

  /** A new message: the thread so far, then the caller's message, which memory keeps as theirs. */
  async #freshView(turn: Turn, key: string, caller: Caller): Promise<View> {
    const view = threadView(await this.o.memory.recent(turn.orgId, key), caller);
    await this.o.memory.append(turn.orgId, key, {
      role: 'user',
      userId: caller.id,
      author: caller.name,
      requestId: turn.requestId,
      content: turn.text,
    });
    return { ...view, messages: [...view.messages, { role: 'user', content: turn.text }] };
  }

  /**
   * A parked call has run: the thread up to the caller's original question, the question, then
   * the call and its result as a tool call and a tool result, as if the call had simply taken long.
   */
  async #resumedView(turn: Turn, key: string, caller: Caller, resumed: NonNullable<Turn['resumed']>): Promise<View> {
    const { memory } = this.o;
    const question = await memory.question(turn.orgId, key, turn.requestId, caller.id);
    const call = await memory.call(turn.orgId, key, turn.requestId, caller.id, resumed);
    const view = threadView(await memory.recent(turn.orgId, key, question?.seq), caller);
    const toolCallId = call?.callId ?? resumed.callId ?? `resumed-${turn.requestId}`;
    const name = toolName({ server: resumed.server, tool: resumed.tool });
    await memory.append(turn.orgId, key, {
      role: 'tool',
      userId: caller.id,
      requestId: turn.requestId,
      call: { callId: toolCallId, server: resumed.server, tool: resumed.tool, args: call?.args ?? {} },
      content: resumed.outcome,
    });
    const messages: ModelMessage[] = [
      ...view.messages,
      ...(question ? [{ role: 'user' as const, content: question.content }] : []),
      { role: 'assistant', content: [{ type: 'tool-call', toolCallId, toolName: name, input: call?.args ?? {} }] },
      {
        role: 'tool',
        content: [
          { type: 'tool-result', toolCallId, toolName: name, output: { type: 'text', value: resumed.outcome } },
        ],
      },
    ];
    const resumedNote =
      resumed.waitedFor === 'approval'
        ? `Your ${quote(`${resumed.server}.${resumed.tool}`)} call waited for ${quote(caller.name)} to approve it; the last tool result says whether it ran (approved) or not (denied, or not answered in time). Finish answering ${quote(caller.name)}'s question.`
        : `Your ${quote(`${resumed.server}.${resumed.tool}`)} call waited until ${quote(caller.name)} connected their account; it has now run, and its result is the last tool result. Finish answering ${quote(caller.name)}'s question.`;
    return { ...view, messages, resumedNote };
  }

  /** The caller's tools for the model; each call runs through the runner and shows as progress. */
  #toolSet(turn: Turn, user: User, catalog: CatalogTool[], sink: TurnSink, privacy: Privacy): ToolSet {
    const key = threadKey(turn.target);
    const tools: ToolSet = {};
    for (const t of catalog) {
      tools[toolName(t)] = tool({
        description: (t.description || `${t.server}.${t.tool}`).slice(0, 1000),
        inputSchema: jsonSchema(t.inputSchema as Parameters<typeof jsonSchema>[0]),
        execute: async (args, { toolCallId }) => {
          const input = (args ?? {}) as Record<string, unknown>;
          const accounts = (await this.o.accounts?.(turn.orgId, user.id, t.server)) ?? [];
          const call: ProgressCall = {
            id: toolCallId,
            server: t.server,
            tool: t.tool,
            as: { person: user.displayName, accounts },
          };
          void sink.emit({ kind: 'tool_started', call });
          const out = await this.o.runTool(turn, t.server, t.tool, input);
          if (out.kind === 'done' && out.private) privacy.on = true;
          if (out.kind === 'done') {
            const ok = out.outcome.kind === 'result' && !out.outcome.isError;
            void sink.emit({ kind: ok ? 'tool_finished' : 'tool_failed', call });
            return this.o.describe(t, out.outcome);
          }
          void sink.emit(
            out.kind === 'held'
              ? { kind: 'waiting_approval', call }
              : { kind: 'waiting_connect', call, provider: out.providerSlug },
          );
          const waiting =
            out.kind === 'held'
              ? 'Waiting for approval: this tool may change things, so the person was asked privately to approve or deny this call. It runs only if they approve; you will be told the outcome. Do not call it again now.'
              : `Waiting: the person must first connect their ${out.providerSlug} account. They were sent a private link; this call will run by itself once they connect.`;
          // Kept so that the resumed turn can show the model this very call with its real result.
          await this.o.memory.append(turn.orgId, key, {
            role: 'tool',
            userId: turn.userId,
            requestId: turn.requestId,
            call: { callId: out.callId, server: t.server, tool: t.tool, args: input },
            content: waiting,
          });
          return waiting;
        },
      });
    }
    return tools;
  }

  async #llmTurn(turn: Turn, user: User, catalog: CatalogTool[], sink: TurnSink): Promise<void> {
    const { llm, memory } = this.o;
    const key = threadKey(turn.target);
    const caller: Caller = { id: user.id, name: user.displayName };
    const { messages, others, resumedNote } = turn.resumed
      ? await this.#resumedView(turn, key, caller, turn.resumed)
      : await this.#freshView(turn, key, caller);
    const system = [SYSTEM, audienceNote(caller, others), resumedNote].filter(Boolean).join('\n\n');
    const provider = createOpenAICompatible({ name: 'llm', baseURL: llm!.baseUrl, apiKey: llm!.apiKey });
    let reply: AgentReply;
    const privacy: Privacy = { on: Boolean(turn.resumed?.private) };
    try {
      const res = streamText({
        model: provider.chatModel(llm!.model),
        system,
        messages,
        tools: this.#toolSet(turn, user, catalog, sink, privacy),
        stopWhen: stepCountIs(this.o.maxSteps ?? 6),
        abortSignal: AbortSignal.timeout(this.o.turnTimeoutMs ?? 120_000),
        maxRetries: 2,
      });
      let text = '';
      for await (const part of res.fullStream) {
        if (part.type === 'error') throw part.error instanceof Error ? part.error : new Error(String(part.error));
        if (part.type === 'abort') throw new Error('the turn took too long');
        if (part.type === 'text-delta' && part.text) {
          text += part.text;
          // After a private result nothing more is streamed where others can read it.
          if (!privacy.on) void sink.emit({ kind: 'answer_chunk', text: part.text });
        }
      }
      const answer = text.trim();
      await memory.append(turn.orgId, key, {
        role: 'assistant',
        userId: turn.userId,
        requestId: turn.requestId,
        // What the model is shown it said (model-facing; an empty answer reads as done).
        content: privacy.on ? PRIVATE_MEMO : answer || 'Done.',
      });
      reply = { kind: 'answer', text: answer, private: privacy.on };
    } catch (err) {
      this.o.log.warn({ reqId: turn.requestId, err: (err as Error).message }, 'agent turn failed');
      reply = { kind: 'llm_failed' };
    }
    await sink.emit({ kind: 'done', reply });
  }
}
