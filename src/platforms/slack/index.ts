export {
  createSlackPlatform,
  createSlackOutbound,
  SlackConfigError,
  type SlackPlatform,
  type SlackPlatformOptions,
  type SlackSettings,
} from './platform.js';
export { SlackOutbound, SlackSendError, SLACK_API_DEFAULT, type SlackOutboundOptions } from './outbound.js';
export { HonoReceiver, type HonoReceiverOptions } from './receiver.js';
export { verifySlackRequest, type VerifyResult } from './verify-request.js';
export { InstalledWorkspaces, SingleWorkspaceToken, type SlackTokens } from './workspaces.js';
export { messageBodies, splitText, SLACK_LIMITS } from './render.js';
export { SLACK_BOT_SCOPES } from './install.js';
export { slackConfigured, slackPlatform, slackSettings } from './start.js';
export type { SlackSender } from './platform.js';
