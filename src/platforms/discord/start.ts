import type { AuditLog } from '../../audit/index.js';
import type { ChatInbound, OutboundRouter } from '../../chat/index.js';
import type { Config } from '../../config.js';
import { Secret } from '../../crypto/index.js';
import type { Identity } from '../../identity/index.js';
import type { Logger } from '../../log.js';
import { GuildAdmins } from './admins.js';
import { DiscordGateway } from './gateway.js';
import { DiscordOutbound } from './outbound.js';

/** The Discord sender, registered in the app's outbound router; undefined without DISCORD_TOKEN. Works in any process. */
export function discordOutbound(config: Config['discord'], router: OutboundRouter): DiscordOutbound | undefined {
  if (!config.token || !config.applicationId) return undefined;
  const out = new DiscordOutbound({
    token: new Secret(config.token),
    applicationId: config.applicationId,
    apiUrl: config.apiUrl,
  });
  router.register('discord', out);
  return out;
}

/** The gateway client of a `serve` process, wired to the chat core; start it with `start()`. */
export function discordGateway(
  config: Config['discord'],
  deps: { core: ChatInbound; identity: Identity; audit: AuditLog; log: Logger; outbound: DiscordOutbound },
): DiscordGateway | undefined {
  if (!config.token || !config.applicationId) return undefined;
  return new DiscordGateway({
    token: new Secret(config.token),
    applicationId: config.applicationId,
    apiUrl: config.apiUrl,
    core: deps.core,
    log: deps.log.child({ platform: 'discord' }),
    outbound: deps.outbound,
    messageContent: config.messageContent ?? false,
    guildAdmins: config.adminsFromGuild ? new GuildAdmins(deps.identity, deps.audit) : undefined,
  });
}
