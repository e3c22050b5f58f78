import type { Ack, ChatInbound, Inbound } from '../../../src/chat/types.js';
import { vi } from 'vitest';
import type { Store } from '../../../src/db/index.js';
import type { Identity } from '../../../src/identity/index.js';
import { Secret, type Keyring } from '../../../src/crypto/index.js';
import { startTestApp } from '../../support/app.js';
import { createMetrics } from '../../../src/metrics.js';
import { createSlackPlatform, type SlackPlatform, type SlackSettings } from '../../../src/platforms/slack/index.js';
import { createWeb, listen } from '../../../src/web/index.js';
import type { LogCapture } from '../../support/logs.js';
import { startSlackApi, type SlackApi } from '../../support/slack-api.js';
import { SlackSigner } from '../../support/slack-signing.js';

export const SIGNING_SECRET = 'test-signing-secret-0123456789';
export const BOT_TOKEN = 'xoxb-canary-bot-token-4f1d2c';

/** The chat core seam, recorded: every event it got, answering with `answer` (default: nothing). */
export class RecordingInbound implements ChatInbound {
  readonly events: Inbound[] = [];
  answer: (e: Inbound) => Promise<Ack> = async () => undefined;
  async handle(event: Inbound): Promise<Ack> {
    this.events.push(event);
    return this.answer(event);
  }
}

export interface SlackBed {
  /** `http://127.0.0.1:<port>/slack/events` */
  eventsUrl: string;
  baseUrl: string;
  slack: SlackApi;
  signer: SlackSigner;
  inbound: RecordingInbound;
  platform: SlackPlatform;
  logs: LogCapture;
  store: Store;
  keyring: Keyring;
  identity: Identity;
  stop(): Promise<void>;
}

/**
 * The Slack adapter as the product builds it (Bolt + our receiver on our Hono server, the Web
 * API sender) against the loopback fake Slack, with a recording chat core at the seam. Its
 * services (store, keyring, identity, audit, log) come from the composition root (`createApp`,
 * terminal mode); only the platform is built here, since its chat core is the recording one.
 */
export async function startSlackBed(
  settings: Partial<SlackSettings> = {},
  opts: { ackDeadlineMs?: number; answerDeadlineMs?: number } = {},
): Promise<SlackBed> {
  const slack = await startSlackApi();
  const t = await startTestApp({}, 'cli');
  const { store, keyring, identity, audit, log } = t.app;
  const { logs } = t;
  const inbound = new RecordingInbound();
  const platform = createSlackPlatform({
    settings: { signingSecret: SIGNING_SECRET, botToken: new Secret(BOT_TOKEN), apiUrl: slack.url, ...settings },
    log,
    store,
    keyring,
    identity,
    audit,
    publicUrl: 'http://127.0.0.1',
    ...opts,
  });
  const web = createWeb({
    log,
    metrics: createMetrics(),
    readiness: [],
    routes: platform.router ? [{ path: '/slack', router: platform.router }] : [],
  });
  const server = await listen(web, 0, '127.0.0.1');
  await platform.start(inbound);
  const baseUrl = `http://127.0.0.1:${server.port}`;
  return {
    eventsUrl: `${baseUrl}/slack/events`,
    baseUrl,
    slack,
    signer: new SlackSigner(SIGNING_SECRET),
    inbound,
    platform,
    logs,
    store,
    keyring,
    identity,
    async stop() {
      await platform.stop();
      await server.close();
      await slack.stop();
      await t.stop();
    },
  };
}

/** Resolves once `check` passes (`vi.waitFor`, every 20 ms), or rejects with its last failure after `ms`. */
export async function eventually(check: () => void, ms = 5000): Promise<void> {
  await vi.waitFor(check, { timeout: ms, interval: 20 });
}
