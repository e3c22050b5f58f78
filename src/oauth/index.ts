export {
  OAuthService,
  type ConnectionChange,
  type ConnectionRefusal,
  type ConnectionResult,
  type ConnectionView,
} from './service.js';
export type { OAuthDeps, OAuthOptions } from './deps.js';
export type {
  DiscoveryFailure,
  ProviderChange,
  ProviderInput,
  ProviderRefusal,
  ProviderResult,
  ProviderView,
} from './providers.js';
export type { McpProviderResult, McpServerRef } from './mcp.js';
export type { CallbackOutcome, CallbackParams } from './flow.js';
export type { ChatSignIn, ConsentPage, ContinueOutcome, SignedIn } from './consent.js';
export { presets } from './presets.js';
export { RefusedUrlError } from './errors.js';
export type { TokenResult, TokenSource, AccessTokenOptions } from './types.js';
