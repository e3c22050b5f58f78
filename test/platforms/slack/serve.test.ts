import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../../src/app.js';
import { tempDir, testConfig } from '../../support/env.js';
import { LogCapture } from '../../support/logs.js';
import { startSlackApi, type SlackApi } from '../../support/slack-api.js';
import { SlackSigner } from '../../support/slack-signing.js';
import { RecordingInbound, SIGNING_SECRET } from './harness.js';

// The composition root with Slack configured: `serve` mounts /slack/events once a chat core is set,
// and every process gets the Slack sender in app.outbound.
let app: App;
let slack: SlackApi;
let cleanup: () => void;
const logs = new LogCapture();
const inbound = new RecordingInbound();
const botToken = 'xoxb-canary-serve-77aa';

beforeAll(async () => {
  slack = await startSlackApi();
  const t = tempDir();
  cleanup = t.cleanup;
  app = await createApp(testConfig(t.dir, { ...slack.appEnv(SIGNING_SECRET, botToken) }), { logDestination: logs });
  app.chat = inbound;
  await app.start();
}, 30_000);
afterAll(async () => {
  await app?.stop();
  await slack?.stop();
  cleanup?.();
});

describe('onbehalf serve with Slack configured', () => {
  it('takes signed events at POST /slack/events and refuses unsigned ones', async () => {
    const url = `http://127.0.0.1:${app.port}/slack/events`;
    const signer = new SlackSigner(SIGNING_SECRET);
    const event = { type: 'app_mention', user: 'UALICE', text: '<@UBOT> hi', ts: '1700000001.000100', channel: 'C1' };
    expect(
      (await signer.post(url, signer.event(event, { teamId: 'T1', eventId: 'EvServe1' }, { secret: 'not-the-secret' })))
        .status,
    ).toBe(401);
    expect((await signer.post(url, signer.event(event, { teamId: 'T1', eventId: 'EvServe1' }))).status).toBe(200);
    expect(inbound.events.map((e) => e.eventId)).toEqual(['EvServe1']);
  });

  it('sends through app.outbound with the bot token, which never reaches a log line', async () => {
    await app.outbound.reply(
      { platform: 'slack', workspaceId: 'T1', channelId: 'C1', userId: 'UALICE', isDirect: false },
      { text: 'hello' },
    );
    expect((await slack.waitFor('chat.postMessage')).token).toBe(botToken);
    expect(logs.containing(botToken)).toEqual([]);
  });
});

describe('slack/manifest.yaml', () => {
  it('asks for the scopes the install flow requests, the events the listeners handle, and one URL for everything', async () => {
    const { readFileSync } = await import('node:fs');
    const { SLACK_BOT_SCOPES } = await import('../../../src/platforms/slack/index.js');
    const manifest = readFileSync(new URL('../../../slack/manifest.yaml', import.meta.url), 'utf8');
    const scopes = [...manifest.matchAll(/^ {6}- ([a-z:._]+)$/gm)].map((m) => m[1]);
    for (const s of SLACK_BOT_SCOPES) expect(scopes).toContain(s);
    for (const e of [
      'app_mention',
      'message.im',
      'assistant_thread_started',
      'assistant_thread_context_changed',
      'assistant_view:',
      'app_uninstalled',
      'tokens_revoked',
      'command: /onbehalf',
    ])
      expect(manifest).toContain(e);
    expect([...manifest.matchAll(/(?:url|request_url): (\S+)/g)].map((m) => m[1])).toEqual(
      Array(3).fill('https://onbehalf.example.com/slack/events'),
    );
  });
});
