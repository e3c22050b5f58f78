import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Secret } from '../../../src/crypto/index.js';
import { startSlackBed, type SlackBed } from './harness.js';

const APP_TOKEN = 'xapp-1-canary-socket-token-abc';
let h: SlackBed;
beforeAll(async () => {
  h = await startSlackBed({ signingSecret: undefined, appToken: new Secret(APP_TOKEN) });
  await h.slack.socketConnected();
});
afterAll(async () => {
  await h?.stop();
});

describe('Slack over Socket Mode (SLACK_APP_TOKEN set)', () => {
  it('connects with the app token through SLACK_API_URL and mounts no HTTP route', async () => {
    expect(h.slack.callsTo('apps.connections.open')[0]!.token).toBe(APP_TOKEN);
    expect(h.platform.router).toBeUndefined();
  });

  it('a mention redelivered with retry_attempt reaches the chat core once; both deliveries are acked', async () => {
    const body = {
      team_id: 'T1',
      api_app_id: 'A_FAKE',
      type: 'event_callback',
      event_id: 'EvSock1',
      event: { type: 'app_mention', user: 'UALICE', text: '<@UBOT> hi', ts: '1700000200.000100', channel: 'C1' },
    };
    expect(await h.slack.socketSend('events_api', body)).toMatchObject({ envelope_id: expect.any(String) });
    expect(await h.slack.socketSend('events_api', body, { retryAttempt: 1 })).toBeDefined();
    // Bolt acks events before the listener runs; envelopes run in the order they came, so once a
    // later event has reached the core, the redelivery before it has had its turn.
    const later = { ...body, event_id: 'EvSock1b', event: { ...body.event, ts: '1700000200.000200' } };
    await h.slack.socketSend('events_api', later);
    await vi.waitFor(() => expect(h.inbound.events.map((e) => e.eventId)).toContain('EvSock1b'), {
      timeout: 300,
      interval: 10,
    });
    expect(h.inbound.events.filter((e) => e.eventId === 'EvSock1')).toHaveLength(1);
  });

  it('a slash command is answered in the ack payload, privately', async () => {
    h.inbound.answer = async () => ({ private: { text: 'pong' } });
    const ack = await h.slack.socketSend('slash_commands', {
      team_id: 'T1',
      user_id: 'UALICE',
      channel_id: 'C1',
      command: '/onbehalf',
      text: 'help',
      trigger_id: 't1',
    });
    expect(ack?.payload).toMatchObject({ response_type: 'ephemeral', text: 'pong' });
    expect(h.logs.containing(APP_TOKEN)).toEqual([]);
  });
});
