import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import type { Hono } from 'hono';
import { createApp, type App } from '../app.js';
import type { Config } from '../config.js';
import { ShellOutbound, runShell } from '../platforms/shell/index.js';
import { chatPolicy } from '../chat/index.js';
import type { WebEnv } from '../web/index.js';
import { notesServer } from './notes-server.js';
import { DemoProvider } from './provider.js';
import { DEMO_PATHS, runDemoScript, setupDemo } from './run.js';

/** Local user names the shell accepts. */
export const SHELL_USER = /^[A-Za-z0-9_.-]{1,32}$/;

/**
 * Builds and starts the whole product for a terminal session, its web server on 127.0.0.1 only
 * (the OAuth callback is for a browser on this machine); logs go to `<dataDir>/onbehalf.log`.
 */
async function startForTerminal(
  config: Config,
  routes: { path: string; router: Hono<WebEnv> }[] = [],
  logFile = path.join(config.dataDir, 'onbehalf.log'),
): Promise<{ app: App; logFile: string }> {
  const app = await createApp(config, {
    mode: 'serve',
    logDestination: pino.destination({ dest: logFile, mkdir: true, sync: false }),
    routes,
    hostname: '127.0.0.1',
  });
  await app.start();
  if (!app.chat) throw new Error('the chat core could not be built (Redis is required)');
  return { app, logFile };
}

/** `onbehalf shell --as NAME`: the product with a terminal as its chat platform. */
export async function shellCommand(
  config: Config,
  user: string,
  io = { input: process.stdin, output: process.stdout },
): Promise<number> {
  const { app, logFile } = await startForTerminal(config);
  try {
    app.outbound.register('shell', new ShellOutbound(io.output));
    io.output.write(
      `onbehalf shell as ${user} in workspace "local" (logs: ${logFile}). Type /onbehalf help; Ctrl-D leaves.\n`,
    );
    await runShell({ core: app.chat!, user, input: io.input, output: io.output });
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
  io = { input: process.stdin, output: process.stdout },
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
  let started: Awaited<ReturnType<typeof startForTerminal>>;
  try {
    started = await startForTerminal(
      demoConfig,
      [
        { path: DEMO_PATHS.oauth, router: provider.router() as unknown as Hono<WebEnv> },
        { path: DEMO_PATHS.notes, router: notesServer(provider) as unknown as Hono<WebEnv> },
      ],
      path.join(config.dataDir, 'demo.log'),
    );
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const { app, logFile } = started;
  try {
    await setupDemo({ oauth: app.oauth!, policy: chatPolicy(app.policy, app.catalog) }, app.identity, {
      publicUrl: config.publicUrl,
      provider,
      user,
    });
    io.output.write(
      `onbehalf demo at ${config.publicUrl} (logs: ${logFile}; data: ${dataDir}, removed when the demo ends).\n` +
        'Set up: OAuth provider "demo" (offline, on this machine) and MCP server "notes" whose Authorization header is each caller\'s own demo token.\n',
    );
    if (opts.script) return (await runDemoScript(app.chat!, app.outbound, io.output, user)) ? 0 : 1;
    app.outbound.register('shell', new ShellOutbound(io.output));
    io.output.write(
      `You are ${user}. Try: /onbehalf run notes.whoami {}  — open the link it prints in a browser on this machine. Ctrl-D leaves.\n`,
    );
    await runShell({ core: app.chat!, user, input: io.input, output: io.output });
    return 0;
  } finally {
    await app.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
