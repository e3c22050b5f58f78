export { Identity, identityKey, type ChatIdentity, type Platform, type User, type Org } from './identity.js';
