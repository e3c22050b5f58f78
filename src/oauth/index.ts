export { OAuthService, type ConnectionView } from './service.js';
export type {
  ServiceGrantChange,
  ServiceGrantRefusal,
  ServiceGrantResult,
  ServiceGrantView,
} from './service-grants.js';
export type { OAuthDeps, OAuthOptions } from './deps.js';
export type { ProviderInput } from './providers.js';
export { ProviderStore, type ProviderDeps, type ProviderRow } from './providers.js';
export type {
  ConnectionChange,
  ConnectionRefusal,
  ConnectionResult,
  DiscoveryFailure,
  ProviderChange,
  ProviderRefusal,
  ProviderResult,
  ProviderView,
} from './results.js';
export type { McpProviderResult, McpServerRef } from './mcp.js';
export type { CallbackOutcome, CallbackParams, ConsentPage, ContinueOutcome, FlowProblem } from './pages.js';
export type { ChatSignIn, SignedIn } from './deps.js';
export type {
  MeLinkPage,
  MeProblem,
  MeRefusal,
  MeSession,
  MyConnection,
  MyConnections,
  MyConnectionsOptions,
} from './me.js';
export { KEEPALIVE_DEFAULTS, type KeepAliveOptions } from './keepalive.js';
export { presets } from './presets.js';
export { RefusedUrlError } from './errors.js';
export type { TokenResult, TokenSource, AccessTokenOptions } from './types.js';
export {
  ConnectionHookSet,
  type ConnectionHooks,
  type GrantArrived,
  type GrantExpired,
  type GrantHeld,
  type GrantRefused,
  type ServiceGrantEvent,
  type SignInMismatch,
} from './hooks.js';
