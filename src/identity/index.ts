export {
  Identity,
  identityKey,
  isExternalMember,
  type ChatIdentity,
  type Platform,
  type User,
  type Org,
} from './identity.js';
export { LinkCodes, type LinkCodeOptions, type LinkResult } from './links.js';
export { OrgJoins, type OrgJoinOptions, type JoinResult, type JoinBlocker } from './joins.js';
export { replyTargetSchema, type ReplyTarget } from './reply.js';
