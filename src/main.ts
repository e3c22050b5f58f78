import { parseArgs } from 'node:util';
import type { AppBase, AppMode } from './app.js';
import type { Config } from './config.js';
import { CLI_COMMANDS, commandUsage, findCommand, usage } from './cli-usage.js';

// `--help` answers before anything else is even loaded: no config, data directory, port or Redis.
const asked = help(process.argv.slice(2));
if (asked !== undefined) process.exit(asked);

const { createApp } = await import('./app.js');
const { loadConfig } = await import('./config.js');
const { isCodedError } = await import('./errors.js');
const { rotateKeys } = await import('./crypto/index.js');
const { openDb, runMigrations, sqliteStore } = await import('./db/index.js');
const { SHELL_USER, demoCommand, shellCommand } = await import('./demo/cli.js');
const { registerCommand } = await import('./platforms/discord/index.js');

function out(line: string) {
  process.stdout.write(line + '\n');
}

async function runUntilSignal(create: () => Promise<AppBase>): Promise<number> {
  // A worker process `serve` supervises ends with it, even when `serve` was killed (then no signal
  // comes): its IPC channel closes. Listened for before starting, as that may happen meanwhile.
  const orphaned = new Promise<void>((resolve) => {
    if (typeof process.send !== 'function') return; // started without an IPC channel (kept after it closes)
    process.once('disconnect', () => resolve());
    if (!process.connected) resolve();
  });
  // Listened for before the app is even built (that starts its private redis-server): a Ctrl-C
  // while it starts is kept and acted on once it has started, never Node's default of dying mid-start.
  let asked: string | undefined;
  let onSignal: (signal: string) => void = (signal) => void (asked ??= signal);
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  void orphaned.then(() => onSignal('supervisor gone'));
  const app = await create();
  try {
    await app.start();
  } catch (err) {
    await app.stop(); // nothing it started (the private redis-server, the lock) outlives the failure
    throw err;
  }
  return new Promise((resolve) => {
    let stopping = 0;
    const stop = (signal: string) => {
      // Ctrl-C under `npm start` arrives twice (the terminal's and npm's forwarded copy): repeats
      // within 2 s are the same request; a later one means "now".
      if (stopping) {
        if (Date.now() - stopping < 2000) return;
        app.log.warn({ signal }, 'second signal: exiting without waiting for shutdown to finish');
        resolve(130);
        return;
      }
      stopping = Date.now();
      app.log.info({ signal }, 'shutting down');
      app.stop().then(
        () => {
          app.log.info({ signal }, 'onbehalf stopped');
          resolve(0);
        },
        () => resolve(1),
      );
    };
    onSignal = stop;
    if (asked) stop(asked);
  });
}

/** `--help`/`-h` anywhere: the usage of the command named before it (or the top level), nothing else. */
function help(argv: string[]): number | undefined {
  if (!argv.includes('--help') && !argv.includes('-h')) return undefined;
  const words = argv.filter((a) => !a.startsWith('-'));
  if (words.length === 0 || words[0] === 'help') {
    out(usage());
    return 0;
  }
  const byFirstWord = CLI_COMMANDS.filter((c) => c.name.split(' ')[0] === words[0]);
  const command = findCommand(argv) ?? (byFirstWord.length === 1 ? byFirstWord[0] : undefined);
  if (!command) {
    out(`onbehalf: unknown command "${words[0]}".\n${usage()}`);
    return 2;
  }
  out(commandUsage(command));
  return 0;
}

type Flags = {
  as?: string | boolean;
  script?: string | boolean;
  guild?: string | boolean;
  socket?: string | boolean;
};
const config = (): Config => loadConfig();

async function main(argv: string[]): Promise<number> {
  const [command = 'help', ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    strict: false,
    options: {
      as: { type: 'string' },
      script: { type: 'boolean' },
      guild: { type: 'string' },
      socket: { type: 'boolean' },
    },
  });
  switch (command) {
    case 'serve':
    case 'worker':
      return runUntilSignal(() => createApp(config(), { mode: command satisfies AppMode }));
    case 'migrate':
      return migrate();
    case 'keys':
      return positionals[0] === 'rotate'
        ? keysRotate()
        : refuse('onbehalf keys: unknown subcommand. Use: onbehalf keys rotate (onbehalf keys --help)');
    case 'discord':
      return positionals[0] === 'register'
        ? discordRegister(values)
        : refuse('onbehalf discord: unknown subcommand. Use: onbehalf discord register [--guild ID]');
    case 'slack':
      return positionals[0] === 'manifest'
        ? slackManifest(values)
        : refuse('onbehalf slack: unknown subcommand. Use: onbehalf slack manifest [--socket]');
    case 'config':
      return positionals[0] === 'apply' || positionals[0] === 'export'
        ? configCommand(positionals[0], rest.includes('--dry-run'))
        : refuse(
            'onbehalf config: unknown subcommand. Use: onbehalf config apply [--dry-run] | onbehalf config export',
          );
    case 'shell':
      return shell(values);
    case 'demo':
      return demoCommand(config(), {
        script: values.script === true,
        user: typeof values.as === 'string' && SHELL_USER.test(values.as) ? values.as : undefined,
      });
    case 'status':
      return status(process.argv.includes('--json'));
    case 'help':
      out(usage());
      return 0;
    default:
      return refuse(`onbehalf: unknown command "${command}".\n${usage()}`);
  }
}

/** A usage mistake: one line (or the usage), exit code 2. */
function refuse(line: string): number {
  out(line);
  return 2;
}

async function migrate(): Promise<number> {
  const c = config();
  let applied: number;
  if (c.postgresUrl) {
    const { migratePostgres } = await import('./db/pg/index.js');
    applied = await migratePostgres(c.postgresUrl);
  } else {
    const db = openDb(c.databasePath, { migrate: false });
    applied = runMigrations(db);
    await sqliteStore(db).close();
  }
  out(applied === 0 ? 'Database is up to date.' : `Applied ${applied} migration(s).`);
  return 0;
}

async function keysRotate(): Promise<number> {
  const app = await createApp(config(), { mode: 'cli' });
  try {
    const report = await rotateKeys(app.store, app.keyring);
    const total = report.columns.reduce((n, c) => n + c.resealed, 0);
    for (const c of report.columns)
      out(`${c.table}.${c.column}: ${c.resealed} re-sealed, ${c.alreadyCurrent} already under ${report.keyId}`);
    out(`Re-sealed ${total} value(s) under key ${report.keyId}.`);
    return 0;
  } finally {
    await app.stop();
  }
}

async function status(json: boolean): Promise<number> {
  const { statusCommand } = await import('./app/status-cli.js');
  const app = await createApp(config(), { mode: 'cli' });
  try {
    return await statusCommand(app.config, app.store, json, out);
  } finally {
    await app.stop();
  }
}

/** `config apply [--dry-run]` prints the plan; `config export` the configuration as a config file. */
async function configCommand(verb: 'apply' | 'export', dryRun: boolean): Promise<number> {
  const { applyConfigFile, exportConfig, CONFIG_LOCK } = await import('./config-file/index.js');
  const c = config();
  if (verb === 'apply' && !c.configFile)
    return refuse('onbehalf config apply: ONBEHALF_CONFIG is not set (example: ONBEHALF_CONFIG=./onbehalf.yaml)');
  const app = await createApp(c, { mode: 'cli' });
  try {
    if (verb === 'export') process.stdout.write(await exportConfig(app));
    // The lock a starting replica takes too: a hand-run apply and a start-up apply never interleave.
    else out(await app.store.exclusive(CONFIG_LOCK, () => applyConfigFile(app, c, { dryRun })));
    return 0;
  } finally {
    await app.stop();
  }
}

async function discordRegister(values: Flags): Promise<number> {
  const guild = typeof values.guild === 'string' ? values.guild : undefined;
  for (const line of await registerCommand(config().discord, guild)) out(line);
  return 0;
}

async function slackManifest(values: Flags): Promise<number> {
  const { slackManifest } = await import('./platforms/slack/manifest.js');
  const c = config();
  if (!c.publicUrl.startsWith('https://'))
    process.stderr.write(
      `onbehalf: PUBLIC_URL is ${c.publicUrl}, which Slack cannot reach; set PUBLIC_URL to the https URL of this server.\n`,
    );
  process.stdout.write(slackManifest(c.publicUrl, { socket: values.socket === true }));
  return 0;
}

async function shell(values: Flags): Promise<number> {
  const user = typeof values.as === 'string' ? values.as : '';
  if (!SHELL_USER.test(user))
    return refuse('onbehalf shell: say who you are. Use: onbehalf shell --as NAME (1–32 letters, digits, . _ -)');
  return shellCommand(config(), user);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    if (isCodedError(err)) {
      process.stderr.write(`onbehalf: ${err.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`onbehalf: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
