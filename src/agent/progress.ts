import type { TurnJob } from './turns.js';

/** What the agent says to the person, as a value (`chat/` words it). */
export type AgentReply =
  /**
   * The model's answer (empty: it said nothing after its tools; `chat/` words that); `private`: it
   * used a result that goes to the caller only (`--private-results`).
   */
  | { kind: 'answer'; text: string; private?: boolean }
  /** No model configured: how to run tools directly, and which the person has. */
  | { kind: 'direct_help'; tools: { server: string; tool: string }[] }
  /** No model configured, and a call that waited has ended: its outcome as the model would be told it. */
  | { kind: 'direct_resumed'; server: string; tool: string; outcome: string; private?: boolean }
  /** The model did not answer. */
  | { kind: 'llm_failed' };

/**
 * One account a tool call uses, as data (`chat/` words it: "@alice's github"). `grant`: the
 * caller's own connected account at a provider (`login`: the vendor account, where known);
 * `shared`: a secret an admin set for the org or a team; `own_secret`: the caller's own secret.
 */
export type ToolAccount =
  | { kind: 'grant'; provider: string; login?: string }
  | { kind: 'shared'; scope: 'org' | 'team'; name: string }
  | { kind: 'own_secret'; name: string };

/** Whom a tool call acts for: the caller (by display name) and the accounts it uses (none: no credential). */
export interface RunsAs {
  person: string;
  accounts: ToolAccount[];
}

/** A tool call of this turn, as progress names it; `id` is stable across its updates. */
export interface ProgressCall {
  id: string;
  server: string;
  tool: string;
  as: RunsAs;
}

/**
 * What the agent is doing during a turn, as values a platform renders (Slack status and stream
 * task entries, the shell's progress lines). Emitted in order; `done` is the last and carries the
 * reply the person is to read.
 */
export type TurnProgress =
  /** The model is working (before and between tool calls). */
  | { kind: 'thinking' }
  /** A tool call began. */
  | { kind: 'tool_started'; call: ProgressCall }
  /** A tool call ended with a result. */
  | { kind: 'tool_finished'; call: ProgressCall }
  /** A tool call ended without one (refused, failed, timed out). */
  | { kind: 'tool_failed'; call: ProgressCall }
  /** A tool call waits until the caller connects their account at `provider`. */
  | { kind: 'waiting_connect'; call: ProgressCall; provider: string }
  /** A tool call waits until the caller approves it. */
  | { kind: 'waiting_approval'; call: ProgressCall }
  /** Part of the model's answer, as it arrives. */
  | { kind: 'answer_chunk'; text: string }
  /** The turn is over: what the person is to read (the whole answer, also when it was streamed in chunks). */
  | { kind: 'done'; reply: AgentReply };

/** Where one turn's progress goes. `emit` never throws; awaiting `done` waits until the reply is delivered. */
export interface TurnSink {
  emit(p: TurnProgress): Promise<void>;
}

/** Opens the sink of one turn (the composition root passes one built by `chat/`). */
export type ProgressPort = (turn: TurnJob) => TurnSink;
