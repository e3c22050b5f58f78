export { OAuthService, type ConnectionView } from './service.js';
export type { OAuthDeps, OAuthOptions } from './deps.js';
export type { ProviderInput, ProviderResult, ProviderView, Done } from './providers.js';
export type { McpProviderResult, McpServerRef } from './mcp.js';
export type { CallbackOutcome, CallbackParams, ConsentPage, ContinueOutcome, FlowProblem } from './pages.js';
export type { ChatSignIn, SignedIn } from './deps.js';
export { presets } from './presets.js';
export { RefusedUrlError } from './errors.js';
export type { TokenResult, TokenSource, AccessTokenOptions } from './types.js';
