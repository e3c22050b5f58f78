export { Agent, type AgentOptions, type AgentReply, type Turn } from './agent.js';
export { ToolCatalog, type CatalogGap, type CatalogTool, type ServerTest } from './catalog.js';
export { ThreadMemory, threadKey } from './memory.js';
export { TurnQueue, turnJobSchema, type TurnJob, type TurnRequest } from './turns.js';
