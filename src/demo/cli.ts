import path from 'node:path';
import { pino } from 'pino';
import type { Hono } from 'hono';
import { createApp, type App } from '../app.js';
import type { Config } from '../config.js';
import { ShellOutbound, runShell } from '../platforms/shell/index.js';
import { chatPolicy } from '../runner/index.js';
import type { WebEnv } from '../web/index.js';
import { notesServer } from './notes-server.js';
import { DemoProvider } from './provider.js';
import { DEMO_PATHS, runDemoScript, setupDemo } from './run.js';

/** Local user names the shell accepts. */
export const SHELL_USER = /^[A-Za-z0-9_.-]{1,32}$/;

/** Builds and starts the whole product for a terminal session; logs go to `<dataDir>/onbehalf.log`. */
async function startForTerminal(config: Config, routes: { path: string; router: Hono<WebEnv> }[] = []): Promise<{ app: App; logFile: string }> {
  const logFile = path.join(config.dataDir, 'onbehalf.log');
  const app = await createApp(config, { mode: 'serve', logDestination: pino.destination({ dest: logFile, mkdir: true, sync: false }), routes });
  await app.start();
  if (!app.chat) throw new Error('the chat core could not be built (Redis is required)');
  return { app, logFile };
}

/** `onbehalf shell --as NAME`: the product with a terminal as its chat platform. */
export async function shellCommand(config: Config, user: string, io = { input: process.stdin, output: process.stdout }): Promise<number> {
  const { app, logFile } = await startForTerminal(config);
  try {
    app.outbound.register('shell', new ShellOutbound(io.output));
    io.output.write(`onbehalf shell as ${user} in workspace "local" (logs: ${logFile}). Type /onbehalf help; Ctrl-D leaves.\n`);
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
export async function demoCommand(config: Config, opts: { script: boolean; user?: string }, io = { input: process.stdin, output: process.stdout }): Promise<number> {
  const user = opts.user ?? 'alice';
  const provider = new DemoProvider();
  // The demo's provider and MCP server live on this machine's loopback, so private URLs are allowed.
  const demoConfig: Config = { ...config, admins: [...config.admins, `shell:local:${user}`], allowPrivateUrls: true };
  const { app, logFile } = await startForTerminal(demoConfig, [
    { path: DEMO_PATHS.oauth, router: provider.router() as unknown as Hono<WebEnv> },
    { path: DEMO_PATHS.notes, router: notesServer(provider) as unknown as Hono<WebEnv> },
  ]);
  try {
    await setupDemo({ oauth: app.oauth!, policy: chatPolicy(app.policy, app.catalog) }, app.identity, { publicUrl: config.publicUrl, provider, user });
    io.output.write(
      `onbehalf demo at ${config.publicUrl} (logs: ${logFile}).\n` +
        'Set up: OAuth provider "demo" (offline, on this machine) and MCP server "notes" whose Authorization header is each caller\'s own demo token.\n',
    );
    if (opts.script) return (await runDemoScript(app.chat!, app.outbound, io.output, user)) ? 0 : 1;
    app.outbound.register('shell', new ShellOutbound(io.output));
    io.output.write(`You are ${user}. Try: /onbehalf run notes.whoami {}  — open the link it prints in a browser on this machine. Ctrl-D leaves.\n`);
    await runShell({ core: app.chat!, user, input: io.input, output: io.output });
    return 0;
  } finally {
    await app.stop();
  }
}
