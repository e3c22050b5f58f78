import http from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { BOT_TOKEN, eventually, startSlackBed, type SlackBed } from './harness.js';

let h: SlackBed;
beforeAll(async () => {
  h = await startSlackBed();
});
afterAll(async () => {
  await h?.stop();
});
beforeEach(() => {
  h.inbound.events.length = 0;
  h.inbound.answer = async () => undefined;
  h.slack.calls.length = 0;
});

let n = 0;
const mention = (text = '<@UBOT> list my issues', user = 'UALICE') => {
  const ts = `1700000${String(++n).padStart(3, '0')}.000200`;
  return {
    event: { type: 'app_mention', user, text, ts, channel: 'CGENERAL', event_ts: ts },
    eventId: `Ev${Date.now()}${n}`,
  };
};

describe('Slack ingress: signatures', () => {
  it('a bad signature, a stale timestamp, a missing header or another version get an opaque 401 and reach nothing', async () => {
    const m = mention();
    const now = Math.floor(Date.now() / 1000);
    for (const o of [
      { secret: 'wrong-secret-xyz' },
      { timestamp: now - 301 },
      { omit: ['x-slack-signature' as const] },
      { version: 'v1' },
    ]) {
      const res = await h.signer.post(h.eventsUrl, h.signer.event(m.event, { teamId: 'T1', eventId: m.eventId }, o));
      expect(res.status).toBe(401);
      expect(res.text).toBe('Unauthorized');
    }
    const changed = h.signer.event(m.event, { teamId: 'T1', eventId: m.eventId });
    const res = await h.signer.post(h.eventsUrl, {
      ...changed,
      body: changed.body.replace('list my issues', 'delete my repos'),
    });
    expect(res.status).toBe(401);
    // A signed event sent after them reaches the core: the refused ones had their turn before it, and reached nothing.
    const later = mention('<@UBOT> signed');
    expect(
      (await h.signer.post(h.eventsUrl, h.signer.event(later.event, { teamId: 'T1', eventId: later.eventId }))).status,
    ).toBe(200);
    await eventually(() => expect(h.inbound.events).toHaveLength(1));
    expect(h.inbound.events.map((e) => e.eventId)).toEqual([later.eventId]);
    // The only Web API calls are the signed event's own name lookups (users.info, team.info on first contact).
    expect(h.slack.calls.filter((c) => c.method !== 'users.info' && c.method !== 'team.info')).toHaveLength(0);
  });

  it("answers Slack's URL verification challenge only when signed", async () => {
    const body = JSON.stringify({ type: 'url_verification', challenge: 'chal-123' });
    const ok = await h.signer.post(h.eventsUrl, h.signer.sign(body, 'json'));
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.text)).toEqual({ challenge: 'chal-123' });
    expect((await h.signer.post(h.eventsUrl, h.signer.sign(body, 'json', { secret: 'nope-nope-nope' }))).status).toBe(
      401,
    );
  });
});

describe('Slack ingress: events', () => {
  it('a mention becomes one message for the chat core, answered in its thread, with the bot mention removed', async () => {
    const m = mention('<@UBOT> what is open?');
    const res = await h.signer.post(h.eventsUrl, h.signer.event(m.event, { teamId: 'T1', eventId: m.eventId }));
    expect(res.status).toBe(200);
    expect(h.inbound.events).toEqual([
      {
        kind: 'message',
        text: 'what is open?',
        eventId: m.eventId,
        // team.info names the bot token's workspace (the fake answers its id); users.info does not know UALICE.
        identity: {
          platform: 'slack',
          workspaceId: 'T1',
          userId: 'UALICE',
          displayName: undefined,
          workspaceName: 'T_DEFAULT',
        },
        target: {
          platform: 'slack',
          workspaceId: 'T1',
          channelId: 'CGENERAL',
          userId: 'UALICE',
          messageId: m.event.ts,
          threadId: m.event.ts,
          isDirect: false,
        },
      },
    ]);
  });

  it('the same event delivered 3 times (Slack retries) reaches the chat core once; every delivery gets 200', async () => {
    const m = mention();
    const statuses = [];
    for (const retryNum of [undefined, 1, 2]) {
      statuses.push(
        (await h.signer.post(h.eventsUrl, h.signer.event(m.event, { teamId: 'T1', eventId: m.eventId }, { retryNum })))
          .status,
      );
    }
    expect(statuses).toEqual([200, 200, 200]);
    expect(h.inbound.events).toHaveLength(1);
  });

  it('when the chat core cannot accept work (Redis down) Slack gets a 500, and its retry is processed, not dropped', async () => {
    const m = mention();
    h.inbound.answer = async () => {
      throw Object.assign(new Error('Redis is unavailable'), { code: 'redis_unavailable' });
    };
    const first = await h.signer.post(h.eventsUrl, h.signer.event(m.event, { teamId: 'T1', eventId: m.eventId }));
    expect(first.status).toBe(500);
    h.inbound.answer = async () => undefined;
    const retry = await h.signer.post(
      h.eventsUrl,
      h.signer.event(m.event, { teamId: 'T1', eventId: m.eventId }, { retryNum: 1 }),
    );
    expect(retry.status).toBe(200);
    expect(h.inbound.events).toHaveLength(2);
  });

  it('is acknowledged within 3 s even when the chat core takes 6 s', async () => {
    const m = mention();
    h.inbound.answer = () => new Promise((r) => setTimeout(() => r(undefined), 6000));
    const res = await h.signer.post(h.eventsUrl, h.signer.event(m.event, { teamId: 'T1', eventId: m.eventId }));
    expect(res.status).toBe(200);
    expect(res.ms).toBeLessThan(3000);
  }, 10_000);

  it('a private answer to a mention is an ephemeral message for the caller only, with a link button', async () => {
    const m = mention('<@UBOT> list issues', 'UBOB');
    h.inbound.answer = async () => ({
      private: {
        text: 'Connect GitHub first.',
        link: { label: 'Connect github', url: 'http://127.0.0.1:9/oauth/start?t=abc' },
      },
    });
    await h.signer.post(h.eventsUrl, h.signer.event(m.event, { teamId: 'T1', eventId: m.eventId }));
    const call = await h.slack.waitFor('chat.postEphemeral');
    expect(call.token).toBe(BOT_TOKEN);
    expect(call.body).toMatchObject({ channel: 'CGENERAL', user: 'UBOB', thread_ts: m.event.ts });
    const blocks = call.body['blocks'] as { type: string; elements?: { url?: string }[] }[];
    expect(blocks.find((b) => b.type === 'actions')?.elements?.[0]?.url).toBe('http://127.0.0.1:9/oauth/start?t=abc');
    expect(h.slack.callsTo('chat.postMessage')).toHaveLength(0);
  });

  it('a direct message is a message with isDirect; its private answer is a plain message in the DM', async () => {
    h.inbound.answer = async () => ({ private: { text: 'only for you' } });
    const ev = {
      type: 'message',
      channel_type: 'im',
      user: 'UALICE',
      text: 'hello there',
      ts: '1700000500.000100',
      channel: 'DALICE',
    };
    await h.signer.post(h.eventsUrl, h.signer.event(ev, { teamId: 'T1', eventId: 'EvDM1' }));
    expect(h.inbound.events[0]).toMatchObject({
      kind: 'message',
      text: 'hello there',
      target: { channelId: 'DALICE', isDirect: true, threadId: undefined },
    });
    const call = await h.slack.waitFor('chat.postMessage');
    expect(call.body).toMatchObject({ channel: 'DALICE', text: 'only for you' });
    expect(h.slack.callsTo('chat.postEphemeral')).toHaveLength(0);
  });

  it('ignores bots (including itself), edits and channel chatter that does not mention it', async () => {
    const events = [
      {
        type: 'message',
        channel_type: 'im',
        bot_id: 'B1',
        user: 'UBOT',
        text: 'my own reply',
        ts: '1.1',
        channel: 'DALICE',
      },
      {
        type: 'message',
        channel_type: 'im',
        subtype: 'message_changed',
        user: 'UALICE',
        text: 'edit',
        ts: '1.2',
        channel: 'DALICE',
      },
      { type: 'message', channel_type: 'channel', user: 'UALICE', text: 'lunch?', ts: '1.3', channel: 'CGENERAL' },
    ];
    for (const [i, ev] of events.entries()) {
      expect(
        (await h.signer.post(h.eventsUrl, h.signer.event(ev, { teamId: 'T1', eventId: `EvIgnore${i}` }))).status,
      ).toBe(200);
    }
    await eventually(() => expect(h.inbound.events).toHaveLength(0), 200);
  });
});

describe('Slack ingress: body size', () => {
  it('a chunked body (no Content-Length) past 4 MiB gets 413 while it is still being sent, and reaches nothing', async () => {
    const m = mention('<@UBOT> ' + 'x'.repeat(5 * 1024 * 1024));
    const signed = h.signer.event(m.event, { teamId: 'T1', eventId: m.eventId });
    const { 'content-length': _omit, ...headers } = signed.headers as Record<string, string>;
    let status: number | undefined;
    const req = http.request(
      h.eventsUrl,
      { method: 'POST', headers: { ...headers, 'transfer-encoding': 'chunked' } },
      (res) => {
        status = res.statusCode;
        res.resume();
      },
    );
    req.on('error', () => undefined); // the server closes the connection after its answer
    try {
      const body = Buffer.from(signed.body);
      // The whole signed body except its last kilobyte: the sender never finishes, the server must not wait for it.
      for (let at = 0; at < body.length - 1024; at += 64 * 1024)
        req.write(body.subarray(at, Math.min(at + 64 * 1024, body.length - 1024)));
      await vi.waitFor(() => expect(status).toBe(413), { timeout: 5000 });
    } finally {
      req.destroy();
    }
    // A normal event still goes through afterwards, and it is the only one that reached the chat core.
    const ok = mention();
    expect(
      (await h.signer.post(h.eventsUrl, h.signer.event(ok.event, { teamId: 'T1', eventId: ok.eventId }))).status,
    ).toBe(200);
    await eventually(() => expect(h.inbound.events).toHaveLength(1));
    expect(JSON.stringify(h.inbound.events)).not.toContain('xxxxxxxx');
  });
});
