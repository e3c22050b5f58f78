import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pino } from 'pino';
import type { Hono } from 'hono';
import { createApp, type App } from '../app.js';
import type { Config } from '../config.js';
import { ShellPlatform } from '../platforms/shell/index.js';
import { chatPolicy } from '../chat/index.js';
import type { WebEnv } from '../web/index.js';
import { notesServer } from './notes-server.js';
import { DemoProvider } from './provider.js';
import { DEMO_PATHS, DemoScript, setupDemo } from './run.js';

/** Local user names the shell accepts. */
export const SHELL_USER = /^[A-Za-z0-9_.-]{1,32}$/;

type Io = { input: Readable; output: NodeJS.WritableStream };
const terminal = (): Io => ({ input: process.stdin, output: process.stdout });

/**
 * Builds the whole product for a terminal session with `shell` as its chat platform, its web
 * server on 127.0.0.1 only (the OAuth callback is for a browser on this machine); logs go to `logFile`.
 */
function terminalApp(
  config: Config,
  o: { shell: ShellPlatform; logFile: string; routes?: { path: string; router: Hono<WebEnv> }[] },
): Promise<App> {
  return createApp(config, {
    mode: 'serve',
    logDestination: pino.destination({ dest: o.logFile, mkdir: true, sync: false }),
    routes: o.routes ?? [],
    platforms: [o.shell],
    hostname: '127.0.0.1',
  });
}

/** `onbehalf shell --as NAME`: the product with a terminal as its chat platform. */
export async function shellCommand(config: Config, user: string, io: Io = terminal()): Promise<number> {
  const logFile = path.join(config.dataDir, 'onbehalf.log');
  const shell = new ShellPlatform({
    user,
    input: io.input,
    output: io.output,
    banner: `onbehalf shell as ${user} in workspace "local" (logs: ${logFile}). Type /onbehalf help; Ctrl-D leaves.\n`,
  });
  const app = await terminalApp(config, { shell, logFile });
  try {
    await app.start();
    await shell.finished;
    return 0;
  } finally {
    await app.stop();
  }
}

/**
 * `onbehalf demo [--script]`: the product offline with a demo OAuth provider and a per-user notes
 * MCP server on its own web server; `user` starts as an admin. Script mode runs the walkthrough.
 */
export async function demoCommand(
  config: Config,
  opts: { script: boolean; user?: string },
  io: Io = terminal(),
): Promise<number> {
  const user = opts.user ?? 'alice';
  const provider = new DemoProvider();
  // Its own data directory, removed on exit: nothing of a demo (its server, provider, parked calls,
  // the admin role of its user) is left for the next demo or for `onbehalf shell` to find.
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'onbehalf-demo-'));
  // The demo's provider and MCP server live on this machine's loopback, so private URLs are allowed.
  const demoConfig: Config = {
    ...config,
    dataDir,
    databasePath: path.join(dataDir, 'onbehalf.db'),
    admins: [...config.admins, `shell:local:${user}`],
    allowPrivateUrls: true,
  };
  const logFile = path.join(config.dataDir, 'demo.log');
  const script = opts.script ? new DemoScript(io.output, user) : undefined;
  const shell =
    script?.shell ??
    new ShellPlatform({
      user,
      input: io.input,
      output: io.output,
      banner: `You are ${user}. Try: /onbehalf run notes.whoami {}  — open the link it prints in a browser on this machine. Ctrl-D leaves.\n`,
    });
  const routes = [
    { path: DEMO_PATHS.oauth, router: provider.router() as unknown as Hono<WebEnv> },
    { path: DEMO_PATHS.notes, router: notesServer(provider) as unknown as Hono<WebEnv> },
  ];
  let app: App;
  try {
    app = await terminalApp(demoConfig, { shell, logFile, routes });
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  try {
    await setupDemo({ oauth: app.oauth, policy: chatPolicy(app.policy, app.catalog) }, app.identity, {
      publicUrl: config.publicUrl,
      provider,
      user,
    });
    io.output.write(
      `onbehalf demo at ${config.publicUrl} (logs: ${logFile}; data: ${dataDir}, removed when the demo ends).\n` +
        'Set up: OAuth provider "demo" (offline, on this machine) and MCP server "notes" whose Authorization header is each caller\'s own demo token.\n',
    );
    await app.start();
    if (script) return (await script.run()) ? 0 : 1;
    await shell.finished;
    return 0;
  } finally {
    await app.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
