import { REST } from '@discordjs/rest';
import { Routes } from 'discord.js';
import type { Secret } from '../../crypto/index.js';
import { onbehalfCommand } from './commands.js';
import { DISCORD_API_DEFAULT, DiscordSendError } from './outbound.js';

/** What `discord register` did, to print. */
export interface RegisterResult {
  scope: 'global' | 'guild';
  guildId?: string;
  /** Names of the registered commands and their subcommands, e.g. `onbehalf run`, `onbehalf admin secret`. */
  registered: string[];
}

/**
 * Registers `/onbehalf` (bulk overwrite): globally, or in one guild (instant; global updates can
 * take up to an hour to reach clients).
 */
export async function registerCommands(opts: {
  token: Secret;
  applicationId: string;
  apiUrl?: string;
  guildId?: string;
}): Promise<RegisterResult> {
  const rest = new REST({ version: '10', api: opts.apiUrl ?? DISCORD_API_DEFAULT }).setToken(opts.token.reveal());
  const route = opts.guildId
    ? Routes.applicationGuildCommands(opts.applicationId, opts.guildId)
    : Routes.applicationCommands(opts.applicationId);
  const command = onbehalfCommand();
  let saved: { name: string }[];
  try {
    saved = (await rest.put(route, { body: [command] })) as { name: string }[];
  } catch (err) {
    const e = err as { status?: number; code?: number | string };
    throw new DiscordSendError(e.status, e.code, 'register the application commands');
  }
  const registered = saved.flatMap((c) => [
    c.name,
    ...command.options.flatMap((o) =>
      o.type === 2
        ? (o.options as { name: string }[]).map((s) => `${c.name} ${o.name} ${s.name}`)
        : [`${c.name} ${o.name}`],
    ),
  ]);
  return { scope: opts.guildId ? 'guild' : 'global', guildId: opts.guildId, registered };
}
