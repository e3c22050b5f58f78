export { createWeb, listen, type WebEnv, type WebOptions, type ReadinessCheck } from './server.js';
