export { Identity, identityKey, type ChatIdentity, type Platform, type User, type Org } from './identity.js';
export { LinkCodes, type LinkCodeOptions, type LinkResult } from './links.js';
