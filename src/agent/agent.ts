import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { generateText, jsonSchema, stepCountIs, tool, type ModelMessage, type ToolSet } from 'ai';
import type { CatalogTool } from '../chat/services.js';
import type { OutboundRouter } from '../chat/outbound.js';
import type { ReplyTarget } from '../chat/types.js';
import type { User } from '../identity/index.js';
import type { Logger } from '../log.js';
import { threadKey, type ThreadMemory } from './memory.js';

/** What a tool call gave the agent. `parked`: the user was asked to connect; it resumes by itself. */
export type AgentToolOutcome = { kind: 'done'; ok: boolean; text: string } | { kind: 'parked'; providerSlug: string; callId: string };

/** One agent turn, as the `turn` queue holds it (ids only). */
export interface Turn {
  orgId: string;
  userId: string;
  chatIdentity: string;
  text: string;
  target: ReplyTarget;
  requestId: string;
  /** Set when this turn continues an earlier one whose parked call has now finished. */
  resumed?: { server: string; tool: string; outcome: string };
}

export interface AgentOptions {
  memory: ThreadMemory;
  outbound: OutboundRouter;
  log: Logger;
  user(orgId: string, userId: string): User | undefined;
  catalog(orgId: string, user: User, channelId: string): Promise<CatalogTool[]>;
  /** Runs one call through the runner (access, credentials, parking, audit) and waits for it. */
  runTool(turn: Turn, server: string, tool: string, args: Record<string, unknown>): Promise<AgentToolOutcome>;
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

/** OpenAI-style tool names: `server__tool`, restricted to [A-Za-z0-9_-]{1,64}. */
const toolName = (t: CatalogTool) => `${t.server}__${t.tool}`.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);

/** Runs agent turns: an LLM with the caller's tools, or direct mode's short help without one. */
export class Agent {
  constructor(private readonly o: AgentOptions) {}

  /** Processes one turn and posts the answer in its thread. */
  async run(turn: Turn): Promise<void> {
    const user = this.o.user(turn.orgId, turn.userId);
    if (!user) return;
    const tools = await this.o.catalog(turn.orgId, user, turn.target.channelId);
    if (!this.o.llm) {
      const names = tools.map((t) => `\`${t.server}.${t.tool}\``);
      await this.o.outbound.reply(turn.target, {
        text: turn.resumed
          ? `\`${turn.resumed.server}.${turn.resumed.tool}\` finished: ${turn.resumed.outcome}`
          : `No language model is configured here, so I run tools directly: \`/onbehalf run <server>.<tool> <json>\`. ${names.length ? `Your tools: ${names.join(', ')}.` : 'No tools are available to you yet.'} \`/onbehalf help\` lists all commands.`,
      });
      return;
    }
    await this.#llmTurn(turn, tools);
  }

  async #llmTurn(turn: Turn, catalog: CatalogTool[]): Promise<void> {
    const { llm, memory } = this.o;
    const key = threadKey(turn.target);
    const history = memory.recent(turn.orgId, key);
    const incoming = turn.resumed
      ? `[The ${turn.resumed.server}.${turn.resumed.tool} call you made earlier has now run, after the person connected their account. Its result: ${turn.resumed.outcome}] Finish answering my earlier question.`
      : turn.text;
    memory.append(turn.orgId, key, 'user', incoming);
    const provider = createOpenAICompatible({ name: 'llm', baseURL: llm!.baseUrl, apiKey: llm!.apiKey });
    const tools: ToolSet = {};
    for (const t of catalog) {
      tools[toolName(t)] = tool({
        description: (t.description || `${t.server}.${t.tool}`).slice(0, 1000),
        inputSchema: jsonSchema(t.inputSchema as Parameters<typeof jsonSchema>[0]),
        execute: async (args) => {
          const out = await this.o.runTool(turn, t.server, t.tool, (args ?? {}) as Record<string, unknown>);
          return out.kind === 'parked'
            ? `Waiting: the person must first connect their ${out.providerSlug} account. They were sent a private link; this call will run by itself once they connect.`
            : out.text;
        },
      });
    }
    const messages: ModelMessage[] = [...history, { role: 'user', content: incoming }];
    try {
      const res = await generateText({
        model: provider.chatModel(llm!.model),
        system: SYSTEM,
        messages,
        tools,
        stopWhen: stepCountIs(this.o.maxSteps ?? 6),
        abortSignal: AbortSignal.timeout(this.o.turnTimeoutMs ?? 120_000),
        maxRetries: 2,
      });
      const answer = res.text.trim() || 'Done.';
      memory.append(turn.orgId, key, 'assistant', answer);
      await this.o.outbound.reply(turn.target, { text: answer });
    } catch (err) {
      this.o.log.warn({ reqId: turn.requestId, err: (err as Error).message }, 'agent turn failed');
      await this.o.outbound.reply(turn.target, { text: 'The language model did not answer, so I could not finish. Try again, or use `/onbehalf run <server>.<tool> <json>`.' });
    }
  }
}
