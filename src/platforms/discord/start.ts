import { senderOnly, type ChatPlatform, type PlatformFactory } from '../../chat/platform.js';
import { ConfigError, type Config } from '../../config.js';
import { Secret } from '../../crypto/index.js';
import { GuildAdmins } from './admins.js';
import { DiscordGateway } from './gateway.js';
import { DiscordOutbound } from './outbound.js';
import { registerCommands } from './register.js';

/**
 * Discord from Config (DISCORD_TOKEN and DISCORD_APPLICATION_ID): in a `serve` process the gateway
 * client and the REST sender it shares its form table with; in a worker the REST sender alone.
 */
export const discordPlatform: PlatformFactory = (ctx) => {
  const config = ctx.config.discord;
  if (!config.token || !config.applicationId) return undefined;
  const token = new Secret(config.token);
  const outbound = new DiscordOutbound({ token, applicationId: config.applicationId, apiUrl: config.apiUrl });
  if (!ctx.receive) return senderOnly('discord', outbound);
  const gateway = new DiscordGateway({
    token,
    applicationId: config.applicationId,
    apiUrl: config.apiUrl,
    log: ctx.log.child({ platform: 'discord' }),
    outbound,
    messageContent: config.messageContent ?? false,
    guildAdmins: config.adminsFromGuild ? new GuildAdmins(ctx.identity, ctx.audit) : undefined,
  });
  let started = false;
  const platform: ChatPlatform = {
    name: 'discord',
    outbound,
    start: async (core) => {
      started = true;
      await gateway.start(core);
    },
    stop: async () => {
      if (started) await gateway.stop();
    },
  };
  return platform;
};

/** `onbehalf discord register [--guild ID]`: registers `/onbehalf`; the lines to print. */
export async function registerCommand(config: Config['discord'], guildId: string | undefined): Promise<string[]> {
  if (!config.token || !config.applicationId)
    throw new ConfigError('DISCORD_TOKEN is required for discord register (example: DISCORD_TOKEN=MTEx…(bot token))');
  const r = await registerCommands({
    token: new Secret(config.token),
    applicationId: config.applicationId,
    apiUrl: config.apiUrl,
    guildId,
  });
  const where =
    r.scope === 'guild'
      ? `in guild ${r.guildId} (available now)`
      : 'globally (Discord may take up to an hour to show it everywhere)';
  return [`Registered /onbehalf ${where}:`, ...r.registered.map((name) => `  /${name}`)];
}
