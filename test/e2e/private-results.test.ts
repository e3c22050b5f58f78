import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { snowflake, type FakeUser } from '../support/discord-fake.js';
import { discordPeopleWorld } from '../support/discord-world.js';
import { startSlackApi, type SlackApi } from '../support/slack-api.js';
import { SlackSigner } from '../support/slack-signing.js';
import { messageText, toolResults } from '../support/llm-server.js';
import { world, type World } from '../support/world.js';
import { startAudienceServer, type AudienceServer } from '../support/audience-server.js';

const NOTE = "used the asker's own account, so it was sent to them privately";
const wait = { timeout: 20_000, interval: 50 };

describe('Slack: a server marked --private-results', () => {
  const SIGNING = 'private-results-signing-7c6b';
  const signer = new SlackSigner(SIGNING);
  let slack: SlackApi;
  let w: World;
  let n = 0;
  const command = async (userId: string, channelId: string, text: string) => {
    const res = await signer.post(
      `${w.t.baseUrl}/slack/events`,
      signer.command({ teamId: 'T1', userId, channelId, text, triggerId: `trig-${++n}` }),
    );
    expect(res.status, res.text).toBe(200);
    return res.text ? String((JSON.parse(res.text) as { text?: string }).text ?? '') : '';
  };

  beforeAll(async () => {
    slack = await startSlackApi();
    w = await world({
      platform: 'slack',
      users: ['UALICE', 'UADMIN'],
      provider: 'vendor',
      servers: [{ name: 'web', grant: true }, { name: 'open' }],
      connect: true,
      // The model calls web.whoami for "who am I", then repeats what the tool said; anything else it just greets.
      llm: (req) => {
        const results = toolResults(req);
        if (results.length) return { text: `The tool says: ${results.join(' ')}` };
        const last = messageText(req.messages.at(-1)!);
        return last.includes('who am I') ? { toolCalls: [{ name: 'web__whoami', args: {} }] } : { text: 'hello there' };
      },
      env: {
        SLACK_SIGNING_SECRET: SIGNING,
        SLACK_BOT_TOKEN: 'xoxb-private-results',
        SLACK_API_URL: slack.url,
        ONBEHALF_ADMINS: 'slack:T1:UADMIN',
      },
    });
    expect(await command('UADMIN', 'CADMIN', 'admin server set web --private-results')).toContain(
      "web: a result obtained with someone's own account now goes to them only",
    );
    expect(await command('UADMIN', 'CADMIN', 'admin server list')).toMatch(/• web \(http [^)]+\) private results/);
  });
  afterAll(async () => {
    await w?.stop();
    await slack?.stop();
  });

  it("a result made with the caller's own grant goes to them as an ephemeral; the channel sees one line", async () => {
    await command('UALICE', 'CTEAM', 'run web.whoami {}');
    const eph = await slack.waitFor(
      'chat.postEphemeral',
      (c) => c.body['channel'] === 'CTEAM' && String(c.body['text']).includes('fp:'),
      20_000,
    );
    expect(eph.body['user']).toBe('UALICE');
    await vi.waitFor(
      () => expect(slack.visible('CTEAM').map((m) => m.text)).toEqual([expect.stringContaining(NOTE)]),
      wait,
    );
    expect(slack.visible('CTEAM')[0]!.text).not.toContain('fp:');
  });

  it("the model's answer using such a result goes to the caller; the thread gets the note, and others' turns never see it", async () => {
    const mention = async (user: string, text: string, ts: string, thread?: string) => {
      const event = { type: 'app_mention', user, text: `<@UBOT> ${text}`, ts, channel: 'CTHREAD', event_ts: ts };
      const res = await signer.post(
        `${w.t.baseUrl}/slack/events`,
        signer.event(thread ? { ...event, thread_ts: thread } : event, { teamId: 'T1', eventId: `Ev${++n}` }),
      );
      expect(res.status).toBe(200);
    };
    await mention('UALICE', 'who am I?', '1700000100.000100');
    const eph = await slack.waitFor(
      'chat.postEphemeral',
      (c) => c.body['channel'] === 'CTHREAD' && String(c.body['text']).includes('The tool says'),
      20_000,
    );
    expect(eph.body['user']).toBe('UALICE');
    expect(String(eph.body['text'])).toContain('fp:');
    await vi.waitFor(
      () => expect(slack.visible('CTHREAD').map((m) => m.text)).toEqual([expect.stringContaining(NOTE)]),
      wait,
    );
    // Nothing public carries it: not a streamed chunk, not an edit, not a post.
    const carrying = slack.calls.filter((c) => JSON.stringify(c.body).includes('The tool says'));
    expect(carrying.map((c) => c.method)).toEqual(['chat.postEphemeral']);
    const before = w.llm!.requests.length;
    await mention('UADMIN', 'hi', '1700000100.000200', '1700000100.000100');
    await vi.waitFor(() => expect(slack.visible('CTHREAD')).toHaveLength(2), wait);
    const seen = JSON.stringify(w.llm!.requests.slice(before));
    expect(seen).not.toContain('fp:');
    expect(seen).not.toContain('The tool says');
  });

  it("a token exchanged for the caller's own sign-in is their own account too: that result goes to them only", async () => {
    const xchg: AudienceServer = await startAudienceServer((t) => w.oauth.audienceOf(t));
    try {
      const org = w.org.id;
      expect((await w.app.policy.addServer(org, { name: 'xchg', transport: 'http', url: xchg.url })).ok).toBe(true);
      expect((await w.app.policy.rule(org, 'allow', 'xchg', { tools: '*' })).ok).toBe(true);
      const bound = await w.app.policy.bind(
        org,
        'xchg',
        'header',
        'Authorization',
        'exchange:vendor',
        'Bearer {token}',
      );
      expect(bound.ok).toBe(true);
      expect(await command('UADMIN', 'CADMIN', 'admin server set xchg --private-results')).toContain('xchg:');
      await command('UALICE', 'CXCHG', 'run xchg.whoami {}');
      const eph = await slack.waitFor(
        'chat.postEphemeral',
        (c) => c.body['channel'] === 'CXCHG' && String(c.body['text']).includes(xchg.url),
        20_000,
      );
      expect(eph.body['user']).toBe('UALICE');
      await vi.waitFor(
        () => expect(slack.visible('CXCHG').map((m) => m.text)).toEqual([expect.stringContaining(NOTE)]),
        wait,
      );
      expect(slack.visible('CXCHG')[0]!.text).not.toContain(xchg.url);
    } finally {
      await xchg.stop();
    }
  });

  it('a server without the setting, or without a personal grant, answers in the channel as before', async () => {
    await command('UALICE', 'COPEN', 'run open.echo {"text":"for everyone"}');
    await vi.waitFor(
      () => expect(slack.visible('COPEN').map((m) => m.text)).toEqual([expect.stringContaining('for everyone')]),
      wait,
    );
    expect(await command('UADMIN', 'CADMIN', 'admin server set web --private-results off')).toContain(
      'web: results now go to the conversation',
    );
    await command('UALICE', 'CBACK', 'run web.whoami {}');
    await vi.waitFor(
      () => expect(slack.visible('CBACK').map((m) => m.text)).toEqual([expect.stringContaining('fp:')]),
      wait,
    );
  });
});

describe('Discord: a server marked --private-results', () => {
  const alice: FakeUser = { id: snowflake(), username: 'alice' };
  let d: Awaited<ReturnType<typeof discordPeopleWorld>>;

  beforeAll(async () => {
    d = await discordPeopleWorld({
      users: [alice],
      provider: 'vendor',
      servers: [{ name: 'web', grant: true }],
      connect: true,
    });
    expect((await d.w.app.policy.setServer(d.w.org.id, 'web', { privateResults: true })).ok).toBe(true);
  });
  afterAll(async () => d?.stop());

  it('the result is an ephemeral follow-up for the caller; the status message becomes the one-line note', async () => {
    const { fake, guildId, channelId } = d;
    const { token } = fake.command(alice, { guildId, channelId }, ['run'], { args: 'web.whoami {}' });
    const hook = `/webhooks/${fake.applicationId}/${token}`;
    const answer = await fake.waitForCall(
      (c) => c.method === 'POST' && c.path === hook && c.raw.includes('fp:'),
      20_000,
    );
    expect(answer.body).toMatchObject({ flags: 64 });
    const note = await fake.waitForCall(
      (c) => c.method === 'PATCH' && c.path.startsWith(`${hook}/messages/`) && c.raw.includes(NOTE),
      20_000,
    );
    expect(note.raw).not.toContain('fp:');
    // Nothing public carries the result.
    const publicPosts = fake.calls.filter(
      (c) => c.raw.includes('fp:') && (c.method === 'PATCH' || !(c.body as { flags?: number }).flags),
    );
    expect(publicPosts).toEqual([]);
  });
});
