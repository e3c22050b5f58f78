/**
 * The one source of the CLI's usage: `onbehalf help`, `onbehalf <command> --help` and README's
 * Commands table (a test checks README holds each row as `readmeRow` prints it).
 */
export interface CliCommand {
  /** The words that select it: `serve`, `keys rotate`. */
  name: string;
  /** Its arguments as typed after the name (may be empty). */
  args: string;
  /** One line: what it does. */
  summary: string;
  /** Further lines `--help` prints below the synopsis. */
  details?: string[];
}

export const CLI_COMMANDS: readonly CliCommand[] = [
  {
    name: 'serve',
    args: '',
    summary:
      'web server and chat adapters, plus `ONBEHALF_WORKERS` worker processes it supervises (what `npm start` runs)',
    details: [
      'Listens on PORT (default 3000); data under ONBEHALF_DATA_DIR (default ./data), which one process at a time may own.',
      'Without REDIS_URL it starts a private redis-server under the data directory. Ctrl-C stops it.',
      'Tool calls run in ONBEHALF_WORKERS (default 1) `onbehalf worker` processes it starts, restarts and stops; 0 runs them inside serve.',
    ],
  },
  {
    name: 'worker',
    args: '',
    summary: 'workers only (tool calls, agent turns), for scaling out; `serve` runs its own as this command',
    details: ['Runs tool and turn workers against REDIS_URL (or a private redis-server), no HTTP.'],
  },
  {
    name: 'migrate',
    args: '',
    summary:
      'applies database migrations (SQLite: also applied at every start; with `DATABASE_URL=postgres://…` the Postgres set; idempotent)',
  },
  {
    name: 'shell',
    args: '--as NAME',
    summary: 'chat with the agent in the terminal as local user NAME',
    details: ['NAME: 1–32 letters, digits, . _ -'],
  },
  {
    name: 'demo',
    args: '[--script] [--as NAME]',
    summary: 'everything offline with a demo OAuth provider and MCP server (`npm run demo`)',
    details: ['--script  run the scripted walkthrough and exit', '--as NAME  chat as NAME (default alice)'],
  },
  {
    name: 'discord register',
    args: '[--guild ID]',
    summary: 'registers the `/onbehalf` application command with Discord',
    details: ['--guild ID  in one guild, available at once (otherwise globally: up to an hour). Needs DISCORD_TOKEN.'],
  },
  {
    name: 'slack manifest',
    args: '[--socket]',
    summary: 'prints the Slack app manifest with every URL on `PUBLIC_URL`, to paste into "Create New App"',
    details: [
      '--socket  for Socket Mode (SLACK_APP_TOKEN): no event or command URLs; browsers still reach PUBLIC_URL/oauth/*.',
    ],
  },
  {
    name: 'status',
    args: '[--json]',
    summary:
      'the deployment at a glance: queue depth and workers, parked calls and connections needing reauth by provider, recent failures',
    details: [
      'Reads the database and the queues of REDIS_URL, or of the private redis-server a running serve owns under the data directory.',
      '--json  the same as one JSON object. Exit code 1 when the queues could not be read.',
    ],
  },
  {
    name: 'keys rotate',
    args: '',
    summary: 're-seals every stored token and secret under the first key of `ONBEHALF_KEYS`',
  },
  {
    name: 'config apply',
    args: '[--dry-run]',
    summary: 'applies the config file `ONBEHALF_CONFIG` names without serving (`serve` applies it at every start)',
    details: [
      '--dry-run  prints the plan (+ create, ~ change, - remove) and changes nothing.',
      'A mistake in the file stops it with file:line:col and what is expected (exit code 2).',
    ],
  },
  {
    name: 'config export',
    args: '',
    summary: 'prints the current configuration of every org as a config file (secrets as references, never values)',
  },
  { name: 'help', args: '', summary: 'this text (also `onbehalf <command> --help`)' },
];

const synopsis = (c: CliCommand) => `onbehalf ${c.name}${c.args ? ` ${c.args}` : ''}`;
const plain = (s: string) => s.replace(/`/g, '');

/** The top-level usage. */
export function usage(): string {
  const width = Math.max(...CLI_COMMANDS.map((c) => synopsis(c).length - 'onbehalf '.length));
  const rows = CLI_COMMANDS.map((c) => `  ${synopsis(c).slice('onbehalf '.length).padEnd(width)}  ${plain(c.summary)}`);
  return ['Usage: onbehalf <command> [options]', '', 'Commands:', ...rows, '', 'Every command takes --help.'].join(
    '\n',
  );
}

/** One command's usage, as `onbehalf <command> --help` prints it. */
export function commandUsage(c: CliCommand): string {
  return [
    `Usage: ${synopsis(c)}`,
    '',
    plain(c.summary),
    ...(c.details?.length ? ['', ...c.details.map(plain)] : []),
  ].join('\n');
}

/** The command named by the first words of `argv` (`keys rotate` before `keys`). */
export function findCommand(argv: string[]): CliCommand | undefined {
  const words = argv.filter((a) => !a.startsWith('-'));
  return CLI_COMMANDS.find((c) => c.name.split(' ').every((w, i) => words[i] === w));
}

/** The row README's Commands table shows for `c`. */
export const readmeRow = (c: CliCommand): string => `| \`${synopsis(c)}\` | ${c.summary} |`;
