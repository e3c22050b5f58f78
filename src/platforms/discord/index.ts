export { DiscordGateway, type DiscordGatewayOptions } from './gateway.js';
export {
  DiscordOutbound,
  DiscordSendError,
  DISCORD_API_DEFAULT,
  INTERACTION_TOKEN_TTL_MS,
  type DiscordOutboundOptions,
} from './outbound.js';
export { GuildAdmins } from './admins.js';
export { registerCommands, type RegisterResult } from './register.js';
export { onbehalfCommand, commandLine, COMMAND_NAME, FORM_COMMANDS } from './commands.js';
export { splitText, messageBodies, DISCORD_MESSAGE_LIMIT } from './render.js';
export { FormIds } from './forms.js';
export { discordPlatform, registerCommand } from './start.js';
