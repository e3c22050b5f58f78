export { McpPool, type PoolOptions, type PoolServer, type CredentialSet, type PoolResult } from './pool.js';
export { classifyError, retryable, resultText, scopesOf, type CallResult } from './outcome.js';
