export { Runner, type RunnerDeps } from './runner.js';
export { withDefaults, type RunnerTuning, type Tuning } from './tuning.js';
export type { ExecutorDeps } from './deps.js';
export type { ToolCallRequest, EnqueueResult } from './enqueue.js';
export type { ApprovalReply } from './approvals.js';
export type { GrantRef, WaitingCall } from './parking.js';
export { TransientCallError } from './errors.js';
export { Executor } from './execute.js';
export type { StepResult } from './report.js';
export { toolJobSchema, jobOptions, openQueue, jobIdFor, type ToolJob } from './jobs.js';
export { workerOptions, closeWorkers } from './worker.js';
export { CallStore, type ApprovalRecord, type CallRow, type StoredOutcome } from './calls.js';
export type { RunnerNotifier } from './notify.js';
export {
  trimForChat,
  toolOutcomeSchema,
  type ApprovalAnswer,
  type ApprovalRequest,
  type CallInfo,
  type ConnectRequest,
  type RunResult,
  type ToolOutcome,
  type TurnCallEnded,
} from './outcome.js';
export {
  Elicitations,
  type ElicitAnswer,
  type ElicitAnswerResult,
  type ElicitContent,
  type ElicitationPrompt,
  type PendingElicitation,
} from './elicit.js';
