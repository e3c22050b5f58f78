export { Agent, type AgentOptions, type Turn } from './agent.js';
export { accountsFor, type AccountLookup } from './accounts.js';
export { ToolCatalog, type CatalogGap, type CatalogTool, type ServerTest } from './catalog.js';
export { ThreadMemory, threadKey } from './memory.js';
export type {
  AgentReply,
  ProgressCall,
  ProgressPort,
  RunsAs,
  ToolAccount,
  TurnProgress,
  TurnSink,
} from './progress.js';
export { TurnQueue, turnJobSchema, type TurnJob, type TurnRequest } from './turns.js';
