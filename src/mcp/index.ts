export { McpPool, type PoolOptions, type PoolServer, type CredentialSet, type PoolResult } from './pool.js';
export { classifyError, retryable, resultText, scopesOf, type CallResult } from './outcome.js';
export {
  ELICITATION_CAPABILITIES,
  type ElicitHandler,
  type ElicitRequestFormParams,
  type ElicitResult,
  type UrlElicitation,
} from './elicit.js';
