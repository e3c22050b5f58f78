export { Agent, type AgentOptions, type AgentToolOutcome, type Turn } from './agent.js';
export { ThreadMemory, threadKey } from './memory.js';
