// Drizzle schema for every concept of DESIGN.md, one file per concept. Times are epoch milliseconds.
// Columns defined with `sealed(…)` hold values sealed by src/crypto (see ./columns.ts and ../sealed.ts).
export * from './identity.js';
export * from './oauth.js';
export * from './policy.js';
export * from './runner.js';
export * from './audit.js';
export * from './storage.js';
export * from './declared.js';
