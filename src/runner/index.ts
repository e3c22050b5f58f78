export { Runner, TransientCallError, type RunnerDeps, type RunnerTuning, type ToolCallRequest } from './runner.js';
export { Executor, type StepResult } from './execute.js';
export { CallStore, type ApprovalRecord, type CallRow, type StoredOutcome } from './calls.js';
export { ToolCatalog, chatPolicy } from './catalog.js';
export { OutboundNotifier } from './notify.js';
export {
  outcomeText,
  trimForChat,
  toolJobSchema,
  turnJobSchema,
  toolOutcomeSchema,
  type ApprovalAnswer,
  type ApprovalRequest,
  type CallInfo,
  type ConnectRequest,
  type RunnerNotifier,
  type RunResult,
  type ToolJob,
  type ToolOutcome,
  type TurnJob,
} from './outcome.js';
