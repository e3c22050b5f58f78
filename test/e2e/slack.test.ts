import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../support/app.js';
import type { TestMcpHttpServer } from '../support/mcp-servers/index.js';
import { authorizeInBrowser, type OAuthTestServer } from '../support/oauth-server.js';
import { queuesIdle } from '../support/queues.js';
import { startSlackApi, type SlackApi, type SlackApiCall } from '../support/slack-api.js';
import { SlackSigner, type SignedRequest } from '../support/slack-signing.js';
import { world, type World } from '../support/world.js';

const SIGNING = 'e2e-signing-secret-5a6b7c8d';
const BOT_TOKEN = 'xoxb-e2e-bot-canary-31c4f9';
const CLIENT_SECRET = 'gh-client-secret-canary-slack-e2e';
const TEAM = 'TACME';
const CHANNEL = 'CSUPPORT';

type Blocks = { type: string; elements?: { url?: string }[] }[];
const linkOf = (c: SlackApiCall) => (c.body['blocks'] as Blocks).find((b) => b.type === 'actions')?.elements?.[0]?.url;
const text = (c: SlackApiCall) => String(c.body['text'] ?? '');

// Acceptance (issue 6), through the real app: signed requests into Bolt at /slack/events, the chat core,
// the BullMQ runner on a real redis, the loopback OAuth server and MCP server, and a fake Slack Web API.
describe('Slack end to end: /onbehalf in a channel, each person with their own GitHub grant', () => {
  let w: World;
  let slack: SlackApi;
  let vendor: OAuthTestServer;
  let mcp: TestMcpHttpServer;
  let t: TestApp;
  let url: string;
  const signer = new SlackSigner(SIGNING);
  /** Every HTTP answer our app gave Slack (acks can carry text too), for the leak scan. */
  const answers: string[] = [];
  const post = async (req: SignedRequest) => {
    const res = await signer.post(url, req);
    answers.push(res.text);
    expect(res.status, res.text).toBe(200);
    expect(res.ms).toBeLessThan(3000);
    return res;
  };
  let trigger = 0;
  const command = (userId: string, line: string) =>
    post(signer.command({ teamId: TEAM, userId, channelId: CHANNEL, text: line, triggerId: `trig-${++trigger}` }));
  /** The held grant's question reaches only `userId`; they press "Yes, that's me" (a signed block action). */
  const confirmHeld = async (userId: string, login: string) => {
    const ask = await slack.waitFor(
      'chat.postEphemeral',
      (c) => c.body['user'] === userId && text(c).includes(login) && text(c).includes('confirm'),
      20_000,
    );
    const yes = (ask.body['blocks'] as { type: string; elements?: { action_id?: string; value?: string }[] }[])
      .flatMap((b) => b.elements ?? [])
      .find((e) => e.action_id?.split('~')[0] === 'command' && e.value?.startsWith('connect confirm'))!;
    expect(
      mcp.calls.filter(
        (c) => c.tool === 'echo' && c.seen['authorization']?.includes(vendor.issuedAccessTokens.at(-1)!),
      ),
    ).toEqual([]);
    await post(
      signer.interaction({
        type: 'block_actions',
        team: { id: TEAM },
        user: { id: userId, team_id: TEAM },
        trigger_id: `trig-${++trigger}`,
        channel: { id: CHANNEL },
        container: { type: 'message', message_ts: '1700000001.000100', channel_id: CHANNEL },
        actions: [{ action_id: 'command', value: yes.value, type: 'button', action_ts: '1' }],
      }),
    );
  };
  const ackText = (res: { text: string }) =>
    res.text ? String((JSON.parse(res.text) as { text?: string }).text ?? '') : '';

  beforeAll(async () => {
    slack = await startSlackApi();
    // Nothing set up but the peers: the workspace's org, its admin and its members appear on first contact.
    w = await world({
      platform: 'slack',
      workspace: TEAM,
      env: {
        ...slack.appEnv(SIGNING, BOT_TOKEN),
        ONBEHALF_ADMINS: `slack:${TEAM}:UADMIN`,
      },
      shell: false,
    });
    ({ t, oauth: vendor, mcp } = w);
    url = `${t.baseUrl}/slack/events`;
  });
  afterAll(async () => {
    await w?.stop();
    await slack?.stop();
  });

  it('an admin sets up provider github (client secret through the modal) and server gh-tools with slash commands', async () => {
    const e = vendor.endpoints;
    const added = await command(
      'UADMIN',
      `admin provider add github oauth2 gh-client --scopes repo --authorize ${e.authorizeUrl} --token ${e.tokenUrl} --revoke ${e.revokeUrl} --userinfo ${e.userinfoUrl}`,
    );
    expect(ackText(added)).toContain(
      `Register this redirect URI at the vendor: ${t.app.config.publicUrl}/oauth/callback`,
    );
    const open = await slack.waitFor('views.open', (c) => c.body['trigger_id'] === `trig-${trigger}`);
    expect(open.token).toBe(BOT_TOKEN);
    const view = open.body['view'] as { callback_id: string; private_metadata: string };
    const saved = await post(signer.formSubmission(view, CLIENT_SECRET, { teamId: TEAM, userId: 'UADMIN' }));
    expect(saved.text).toContain('github');

    expect(ackText(await command('UADMIN', `admin server add gh-tools http ${mcp.url}`))).toContain('gh-tools');
    expect(
      ackText(
        await command('UADMIN', 'admin bind gh-tools header Authorization oauth:github --template "Bearer {token}"'),
      ),
    ).not.toMatch(/Use:/);
    expect(ackText(await command('UADMIN', 'admin server list'))).toMatch(
      /gh-tools \(http .*\) bindings: .*Authorization/,
    );
    // A member cannot do the same.
    expect(ackText(await command('UALICE', 'admin provider list'))).toMatch(/admins only/);
  });

  it('alice runs a tool: only she gets the connect prompt; after OAuth the channel gets the result made with her token', async () => {
    const ack = await command('UALICE', 'run gh-tools.echo {"text":"from alice"}');
    expect(ackText(ack)).toContain('Running `gh-tools.echo` as you');

    const prompt = await slack.waitFor('chat.postEphemeral', (c) => c.body['user'] === 'UALICE', 20_000);
    expect(prompt.token).toBe(BOT_TOKEN);
    expect(prompt.body['channel']).toBe(CHANNEL);
    expect(text(prompt)).toContain('needs your github account');
    const link = linkOf(prompt)!;
    expect(link).toMatch(new RegExp(`^${t.app.config.publicUrl}/oauth/start\\?t=`));
    expect(slack.callsTo('chat.postMessage')).toEqual([]);
    expect(mcp.calls).toEqual([]);

    vendor.login = 'alice-gh';
    const step = await authorizeInBrowser(link);
    if (!('callbackUrl' in step)) throw new Error(`start failed: ${step.status} ${step.body}`);
    const page = await step.browser.fetch(step.callbackUrl);
    expect(await page.text()).toContain('alice-gh');
    await confirmHeld('UALICE', 'alice-gh');

    // The answer replaces the placeholder posted just before the tool ran.
    const result = await slack.waitFor('chat.update', (c) => text(c).includes('from alice'), 20_000);
    expect(slack.visible(CHANNEL).map((m) => m.text)).toEqual([text(result)]);
    expect(result.body).toMatchObject({ channel: CHANNEL });
    expect(mcp.calls.filter((c) => c.tool === 'echo')).toHaveLength(1);
    expect(mcp.calls[0]!.seen['authorization']).toBe(`Bearer ${vendor.issuedAccessTokens[0]}`);

    // The confirmation names her vendor account, reaches only her, and comes before the result.
    const confirmed = slack.calls.filter((c) => text(c).includes('alice-gh'));
    // The held-grant question, the answer to her "Yes", and the confirmation: each only to her.
    expect(confirmed.map((c) => [c.method, c.body['user']])).toEqual([
      ['chat.postEphemeral', 'UALICE'],
      ['chat.postEphemeral', 'UALICE'],
      ['chat.postEphemeral', 'UALICE'],
    ]);
    expect(slack.calls.indexOf(confirmed[0]!)).toBeLessThan(slack.calls.indexOf(result));
    expect(slack.callsTo('chat.postEphemeral').every((c) => c.body['user'] === 'UALICE')).toBe(true);
  });

  it("bob in the same channel gets his own prompt, not alice's grant; once connected his call carries his token", async () => {
    await command('UBOB', 'run gh-tools.echo {"text":"from bob"}');
    const prompt = await slack.waitFor('chat.postEphemeral', (c) => c.body['user'] === 'UBOB', 20_000);
    expect(prompt.body['channel']).toBe(CHANNEL);
    const link = linkOf(prompt)!;
    expect(
      slack
        .callsTo('chat.postEphemeral')
        .filter((c) => c.body['user'] === 'UALICE')
        .map(linkOf),
    ).not.toContain(link);
    expect(mcp.calls.filter((c) => c.args['text'] === 'from bob')).toEqual([]);

    vendor.login = 'bob-gh';
    const step = await authorizeInBrowser(link);
    if (!('callbackUrl' in step)) throw new Error(`start failed: ${step.status} ${step.body}`);
    await step.browser.fetch(step.callbackUrl);
    await confirmHeld('UBOB', 'bob-gh');
    await slack.waitFor('chat.update', (c) => text(c).includes('from bob'), 20_000);
    const bobs = mcp.calls.find((c) => c.args['text'] === 'from bob')!;
    expect(bobs.seen['authorization']).toBe(`Bearer ${vendor.issuedAccessTokens[1]}`);
    expect(bobs.seen['authorization']).not.toBe(mcp.calls[0]!.seen['authorization']);
    expect(slack.calls.filter((c) => text(c).includes('bob-gh')).map((c) => [c.method, c.body['user']])).toEqual([
      ['chat.postEphemeral', 'UBOB'],
      ['chat.postEphemeral', 'UBOB'],
      ['chat.postEphemeral', 'UBOB'],
    ]);
  });

  it('the same event delivered 3 times (Slack retries) gets one turn and one reply: a DM, and a mention in its thread', async () => {
    const dm = {
      type: 'message',
      channel_type: 'im',
      user: 'UALICE',
      text: 'what can you do?',
      ts: '1700000900.000100',
      channel: 'DUALICE',
    };
    const mention = {
      type: 'app_mention',
      user: 'UBOB',
      text: '<@UBOT> hello there',
      ts: '1700000901.000200',
      channel: CHANNEL,
    };
    for (const retryNum of [undefined, 1, 2]) {
      await post(signer.event(dm, { teamId: TEAM, eventId: 'EvE2eDm1' }, { retryNum }));
      await post(signer.event(mention, { teamId: TEAM, eventId: 'EvE2eMention1' }, { retryNum }));
    }
    const help = /No language model is configured here, so I run tools directly/;
    await slack.waitFor('chat.postMessage', (c) => c.body['channel'] === 'DUALICE' && help.test(text(c)), 20_000);
    const threaded = await slack.waitFor('chat.postMessage', (c) => c.body['thread_ts'] === mention.ts, 20_000);
    expect(threaded.body['channel']).toBe(CHANNEL);
    expect(text(threaded)).toMatch(help);
    // Every delivery was answered after its turn was queued; once no turn is pending, a duplicate would have posted.
    await queuesIdle(t.app.redisUrl, 1500);
    expect(slack.callsTo('chat.postMessage').filter((c) => c.body['channel'] === 'DUALICE')).toHaveLength(1);
    expect(slack.callsTo('chat.postMessage').filter((c) => c.body['thread_ts'] === mention.ts)).toHaveLength(1);
  });

  it('no token or secret appears in any Web API call, any answer to Slack or any log line; the bot token only authorizes calls', () => {
    expect(vendor.issuedAccessTokens.length).toBeGreaterThanOrEqual(2);
    const canaries = [...vendor.issuedAccessTokens, ...vendor.issuedRefreshTokens, CLIENT_SECRET];
    expect(slack.containing(...canaries)).toEqual([]);
    expect(slack.calls.filter((c) => c.raw.includes(BOT_TOKEN)).map((c) => c.method)).toEqual([]);
    expect(slack.calls.filter((c) => c.token !== BOT_TOKEN).map((c) => c.method)).toEqual([]);
    expect(answers.filter((a) => [...canaries, BOT_TOKEN].some((v) => a.includes(v)))).toEqual([]);
    expect(t.logs.containing(...canaries, BOT_TOKEN, SIGNING)).toEqual([]);
  });
});
