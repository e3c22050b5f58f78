import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { generateText, jsonSchema, stepCountIs, tool, type ModelMessage, type ToolSet } from 'ai';
import type { User } from '../identity/index.js';
import type { ReplyTarget } from '../identity/reply.js';
import type { Logger } from '../log.js';
import type { RunResult, ToolOutcome } from '../runner/index.js';
import type { CatalogTool } from './catalog.js';
import { audienceNote, quote, threadView, type Caller } from './context.js';
import { threadKey, type ThreadMemory } from './memory.js';
import type { TurnJob } from './turns.js';

/** What the model is shown of a thread for one turn. */
interface View {
  messages: ModelMessage[];
  others: string[];
  resumedNote?: string;
}

/** One agent turn, as the `turn` queue holds it. */
export type Turn = TurnJob;

/** What the agent says to the person, as a value (`chat/` words it). */
export type AgentReply =
  /** The model's answer; `private`: it used a result that goes to the caller only (`--private-results`). */
  | { kind: 'answer'; text: string; private?: boolean }
  /** No model configured: how to run tools directly, and which the person has. */
  | { kind: 'direct_help'; tools: { server: string; tool: string }[] }
  /** No model configured, and a call that waited has ended: its outcome as the model would be told it. */
  | { kind: 'direct_resumed'; server: string; tool: string; outcome: string; private?: boolean }
  /** The model did not answer. */
  | { kind: 'llm_failed' };

export interface AgentOptions {
  memory: ThreadMemory;
  /** Posts what the agent says in the turn's conversation (worded by `chat/`). */
  reply(target: ReplyTarget, r: AgentReply): Promise<void>;
  log: Logger;
  user(orgId: string, userId: string): User | undefined;
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

/** OpenAI-style tool names: `server__tool`, restricted to [A-Za-z0-9_-]{1,64}. */
const toolName = (t: Pick<CatalogTool, 'server' | 'tool'>) =>
  `${t.server}__${t.tool}`.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);

/** Runs agent turns: an LLM with the caller's tools, or direct mode's short help without one. */
export class Agent {
  constructor(private readonly o: AgentOptions) {}

  /** Processes one turn and posts the answer in its thread. */
  async run(turn: Turn): Promise<void> {
    const user = this.o.user(turn.orgId, turn.userId);
    if (!user) return;
    const tools = await this.o.catalog(turn.orgId, user, turn.target.channelId);
    if (!this.o.llm) {
      const r = turn.resumed;
      await this.o.reply(
        turn.target,
        r
          ? { kind: 'direct_resumed', server: r.server, tool: r.tool, outcome: r.outcome, private: r.private }
          : { kind: 'direct_help', tools: tools.map((t) => ({ server: t.server, tool: t.tool })) },
      );
      return;
    }
    await this.#llmTurn(turn, user, tools);
  }

  /** A new message: the thread so far, then the caller's message, which memory keeps as theirs. */
  #freshView(turn: Turn, key: string, caller: Caller): View {
    const view = threadView(this.o.memory.recent(turn.orgId, key), caller);
    this.o.memory.append(turn.orgId, key, {
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
  #resumedView(turn: Turn, key: string, caller: Caller, resumed: NonNullable<Turn['resumed']>): View {
    const { memory } = this.o;
    const question = memory.question(turn.orgId, key, turn.requestId, caller.id);
    const call = memory.call(turn.orgId, key, turn.requestId, caller.id, resumed);
    const view = threadView(memory.recent(turn.orgId, key, question?.seq), caller);
    const toolCallId = call?.callId ?? resumed.callId ?? `resumed-${turn.requestId}`;
    const name = toolName({ server: resumed.server, tool: resumed.tool });
    memory.append(turn.orgId, key, {
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

  async #llmTurn(turn: Turn, user: User, catalog: CatalogTool[]): Promise<void> {
    const { llm, memory } = this.o;
    const key = threadKey(turn.target);
    const caller: Caller = { id: user.id, name: user.displayName };
    const { messages, others, resumedNote } = turn.resumed
      ? this.#resumedView(turn, key, caller, turn.resumed)
      : this.#freshView(turn, key, caller);
    const system = [SYSTEM, audienceNote(caller, others), resumedNote].filter(Boolean).join('\n\n');
    const provider = createOpenAICompatible({ name: 'llm', baseURL: llm!.baseUrl, apiKey: llm!.apiKey });
    const tools: ToolSet = {};
    let privately = Boolean(turn.resumed?.private);
    for (const t of catalog) {
      tools[toolName(t)] = tool({
        description: (t.description || `${t.server}.${t.tool}`).slice(0, 1000),
        inputSchema: jsonSchema(t.inputSchema as Parameters<typeof jsonSchema>[0]),
        execute: async (args) => {
          const input = (args ?? {}) as Record<string, unknown>;
          const out = await this.o.runTool(turn, t.server, t.tool, input);
          if (out.kind === 'done' && out.private) privately = true;
          if (out.kind === 'done') return this.o.describe(t, out.outcome);
          const waiting =
            out.kind === 'held'
              ? 'Waiting for approval: this tool may change things, so the person was asked privately to approve or deny this call. It runs only if they approve; you will be told the outcome. Do not call it again now.'
              : `Waiting: the person must first connect their ${out.providerSlug} account. They were sent a private link; this call will run by itself once they connect.`;
          // Kept so that the resumed turn can show the model this very call with its real result.
          memory.append(turn.orgId, key, {
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
    try {
      const res = await generateText({
        model: provider.chatModel(llm!.model),
        system,
        messages,
        tools,
        stopWhen: stepCountIs(this.o.maxSteps ?? 6),
        abortSignal: AbortSignal.timeout(this.o.turnTimeoutMs ?? 120_000),
        maxRetries: 2,
      });
      const answer = res.text.trim() || 'Done.';
      memory.append(turn.orgId, key, {
        role: 'assistant',
        userId: turn.userId,
        requestId: turn.requestId,
        content: privately ? PRIVATE_MEMO : answer,
      });
      await this.o.reply(turn.target, { kind: 'answer', text: answer, private: privately });
    } catch (err) {
      this.o.log.warn({ reqId: turn.requestId, err: (err as Error).message }, 'agent turn failed');
      await this.o.reply(turn.target, { kind: 'llm_failed' });
    }
  }
}
