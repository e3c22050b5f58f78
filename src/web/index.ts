export { createWeb, listen, PortInUseError, type WebEnv, type WebOptions, type ReadinessCheck } from './server.js';
export { oauthRouter, type OAuthRouteOptions } from './oauth.js';
export { meRouter, type MeRouteOptions } from './me.js';
