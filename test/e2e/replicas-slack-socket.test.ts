import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { replicas, type Replicas } from '../support/replicas.js';
import { startSlackApi, type SlackApi } from '../support/slack-api.js';

const TEAM = 'TACME';

describe('two serve replicas on Slack Socket Mode, sharing only the database and Redis', () => {
  let r: Replicas;
  let slack: SlackApi;

  beforeAll(async () => {
    slack = await startSlackApi();
    const { SLACK_SIGNING_SECRET: _http, ...env } = slack.appEnv('unused', 'xoxb-socket-replicas-bot');
    r = await replicas({
      platform: 'slack',
      workspace: TEAM,
      shell: false,
      env: { ...env, SLACK_APP_TOKEN: 'xapp-1-socket-replicas' },
    });
    await vi.waitFor(() => expect(slack.socketClients()).toBe(2), { timeout: 10_000, interval: 20 });
  }, 60_000);
  afterAll(async () => {
    await r?.stop();
    await slack?.stop();
  });

  const linkCodes = () =>
    slack
      .callsTo('chat.postEphemeral')
      .filter((c) => c.body['user'] === 'UALICE' && String(c.body['text']).includes('Your link code'));

  it('an event that reaches both replicas, and its redelivery, runs once', async () => {
    const body = (eventId: string, ts: string) => ({
      team_id: TEAM,
      api_app_id: 'A_FAKE',
      type: 'event_callback',
      event_id: eventId,
      event: { type: 'app_mention', user: 'UALICE', text: '<@UBOT> onbehalf link', ts, channel: 'C1' },
    });
    // The fake hands every envelope to every connected socket: each replica receives it.
    expect(await slack.socketSend('events_api', body('EvSockRep1', '1700000300.000100'))).toBeDefined();
    expect(
      await slack.socketSend('events_api', body('EvSockRep1', '1700000300.000100'), { retryAttempt: 1 }),
    ).toBeDefined();
    await vi.waitFor(() => expect(linkCodes()).toHaveLength(1));
    // A later event is answered once too: by then the redeliveries before it have had their turn.
    await slack.socketSend('events_api', body('EvSockRep2', '1700000300.000200'));
    await vi.waitFor(() => expect(linkCodes()).toHaveLength(2));
    expect(linkCodes()).toHaveLength(2);
  });
});
