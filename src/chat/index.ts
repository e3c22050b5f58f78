export { ChatCore } from './core.js';
export { OutboundRouter } from './outbound.js';
export { COMMANDS, helpText, runCommand, type CommandContext, type CommandReply } from './router.js';
export type { ChatServices, ChatOAuth, ChatPolicy, ChatRunner, CatalogTool, ServerTest } from './services.js';
export * from './types.js';
export { ConnectionAnnouncer, connectPrompt, connectedMessage, type ConnectReason } from './prompts.js';
