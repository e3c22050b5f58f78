import { senderOnly, type ChatPlatform, type PlatformFactory } from '../../chat/platform.js';
import type { Logger } from '../../log.js';
import { RedisLease } from '../../redis/index.js';
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
  const log = ctx.log.child({ platform: 'discord' });
  // A fresh client per term of the lease: one that was destroyed is not logged in again.
  const gateway = () =>
    new DiscordGateway({
      token,
      applicationId: config.applicationId!,
      apiUrl: config.apiUrl,
      log,
      outbound,
      messageContent: config.messageContent ?? false,
      guildAdmins: config.adminsFromGuild ? new GuildAdmins(ctx.identity, ctx.audit) : undefined,
    });
  return gatewayUnderLease(outbound, gateway, new RedisLease(ctx.redis, leaseKey(config.applicationId), log), log);
};

/** One gateway session per bot across every `serve` replica sharing Redis. */
const leaseKey = (applicationId: string) => `onbehalf:lease:discord-gateway:${applicationId}`;

/**
 * The Discord platform of a `serve` replica: it connects the gateway only while it holds the lease
 * (two sessions of one unsharded bot each receive every event, so each message would be answered
 * twice); replicas without it still send through REST and serve web routes.
 * `start` resolves once this replica holds the gateway, or once another replica is found holding it.
 */
function gatewayUnderLease(
  outbound: DiscordOutbound,
  build: () => DiscordGateway,
  lease: RedisLease,
  log: Logger,
): ChatPlatform {
  let started = false;
  let current: DiscordGateway | undefined;
  return {
    name: 'discord',
    outbound,
    start: async (core) => {
      started = true;
      await lease.start({
        onHeld: async () => {
          const g = (current = build());
          await g.start(core);
        },
        onLost: async () => {
          const g = current;
          current = undefined;
          await g?.stop();
        },
      });
      if (!lease.held) log.info('another replica holds the Discord gateway; this one takes over if it stops');
    },
    stop: async () => {
      if (started) await lease.stop();
    },
  };
}

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
