import { parseArgs } from 'node:util';
import { createApp, type App, type AppMode } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { rotateKeys, SealError, Secret } from './crypto/index.js';
import { openDb, runMigrations } from './db/index.js';
import { RedisStartError } from './redis/index.js';
import { SHELL_USER, demoCommand, shellCommand } from './demo/cli.js';
import { DiscordSendError, registerCommands } from './platforms/discord/index.js';

const USAGE = `Usage: onbehalf <command>

Commands:
  serve          web server, chat adapters and workers (default of npm start)
  worker         workers only, for scaling out
  migrate        apply database migrations
  shell --as N   chat with the agent in this terminal as local user N
  demo [--script] [--as N]  everything offline with a demo OAuth provider and MCP server
  keys rotate    re-seal every stored secret under the first key of ONBEHALF_KEYS
  discord register [--guild ID]  register /onbehalf with Discord (globally, or in one guild at once)
  help           this text`;

/** Errors whose message is safe and sufficient for the operator: printed as one line. */
const expected = (err: unknown): err is Error =>
  err instanceof ConfigError || err instanceof SealError || err instanceof RedisStartError || err instanceof DiscordSendError;

function out(line: string) {
  process.stdout.write(line + '\n');
}

async function runUntilSignal(app: App): Promise<number> {
  await app.start();
  return new Promise((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      app.log.info({ signal }, 'shutting down');
      app.stop().then(() => resolve(0), () => resolve(1));
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}

async function main(argv: string[]): Promise<number> {
  const [command = 'help', ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    strict: false,
    options: { as: { type: 'string' }, script: { type: 'boolean' }, guild: { type: 'string' } },
  });
  const config = (): Config => loadConfig();

  switch (command) {
    case 'serve':
    case 'worker':
      return runUntilSignal(await createApp(config(), { mode: command satisfies AppMode }));
    case 'migrate': {
      const db = openDb(config().databasePath, { migrate: false });
      const applied = runMigrations(db);
      db.$client.close();
      out(applied === 0 ? 'Database is up to date.' : `Applied ${applied} migration(s).`);
      return 0;
    }
    case 'keys': {
      if (positionals[0] !== 'rotate') {
        out('onbehalf keys: unknown subcommand. Use: onbehalf keys rotate');
        return 2;
      }
      const app = await createApp(config(), { mode: 'cli' });
      try {
        const report = rotateKeys(app.db, app.keyring);
        const total = report.columns.reduce((n, c) => n + c.resealed, 0);
        for (const c of report.columns) out(`${c.table}.${c.column}: ${c.resealed} re-sealed, ${c.alreadyCurrent} already under ${report.keyId}`);
        out(`Re-sealed ${total} value(s) under key ${report.keyId}.`);
        return 0;
      } finally {
        await app.stop();
      }
    }
    case 'discord': {
      if (positionals[0] !== 'register') {
        out('onbehalf discord: unknown subcommand. Use: onbehalf discord register [--guild ID]');
        return 2;
      }
      const { discord } = config();
      if (!discord.token || !discord.applicationId) throw new ConfigError('DISCORD_TOKEN is required for discord register (example: DISCORD_TOKEN=MTEx…(bot token))');
      const guild = typeof values.guild === 'string' ? values.guild : undefined;
      const r = await registerCommands({ token: new Secret(discord.token), applicationId: discord.applicationId, apiUrl: discord.apiUrl, guildId: guild });
      out(`Registered /onbehalf ${r.scope === 'guild' ? `in guild ${r.guildId} (available now)` : 'globally (Discord may take up to an hour to show it everywhere)'}:`);
      for (const name of r.registered) out(`  /${name}`);
      return 0;
    }
    case 'shell': {
      const user = typeof values.as === 'string' ? values.as : '';
      if (!SHELL_USER.test(user)) {
        out('onbehalf shell: say who you are. Use: onbehalf shell --as NAME (1–32 letters, digits, . _ -)');
        return 2;
      }
      return shellCommand(config(), user);
    }
    case 'demo':
      return demoCommand(config(), { script: values.script === true, user: typeof values.as === 'string' && SHELL_USER.test(values.as) ? values.as : undefined });
    case 'help':
    case '--help':
    case '-h':
      out(USAGE);
      return 0;
    default:
      out(`onbehalf: unknown command "${command}".\n${USAGE}`);
      return 2;
  }
  void values;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    if (expected(err)) {
      process.stderr.write(`onbehalf: ${err.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`onbehalf: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
