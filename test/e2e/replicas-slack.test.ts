import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { shellIdentity } from '../../src/platforms/shell/index.js';
import { obedientModel } from '../support/llm-server.js';
import { authorizeInBrowser } from '../support/oauth-server.js';
import { replicas, type Replicas } from '../support/replicas.js';
import { startSlackApi, type SlackApi, type SlackApiCall } from '../support/slack-api.js';
import { SlackSigner, type SignOptions } from '../support/slack-signing.js';

const SIGNING = 'replicas-signing-secret-8e1d2c';
const TEAM = 'TACME';
const CHANNEL = 'CSUPPORT';

type Button = { action_id: string; value?: string; url?: string };
const buttonsOf = (c: SlackApiCall) =>
  ((c.body['blocks'] ?? []) as { type: string; elements?: Button[] }[]).flatMap((b) => b.elements ?? []);
const text = (c: SlackApiCall) => String(c.body['text'] ?? '');

describe('two serve replicas behind one load balancer, sharing only the database and Redis (Slack)', () => {
  let r: Replicas;
  let slack: SlackApi;
  const signer = new SlackSigner(SIGNING);
  let n = 0;
  /** Slack delivers to whichever replica the balancer picks: here, the one named. */
  const to = (replica: 'a' | 'b') => `${(replica === 'a' ? r.a : r.b).baseUrl}/slack/events`;
  const mention = (user: string, words: string, o: { thread?: string } = {}) => {
    const ts = `1700002${String(++n).padStart(3, '0')}.000100`;
    return {
      ts,
      eventId: `Ev-rep-${n}`,
      event: {
        type: 'app_mention',
        user,
        text: `<@UBOT> ${words}`,
        ts,
        channel: CHANNEL,
        ...(o.thread ? { thread_ts: o.thread } : {}),
      },
    };
  };
  const deliver = (replica: 'a' | 'b', m: ReturnType<typeof mention>, o?: SignOptions) =>
    signer.post(to(replica), signer.event(m.event, { teamId: TEAM, eventId: m.eventId }, o));
  const click = (replica: 'a' | 'b', user: string, b: Button) =>
    signer.post(
      to(replica),
      signer.interaction({
        type: 'block_actions',
        team: { id: TEAM },
        user: { id: user, team_id: TEAM },
        trigger_id: `trig-${++n}`,
        channel: { id: CHANNEL },
        container: { type: 'message', channel_id: CHANNEL, message_ts: '1700000000.000001', is_ephemeral: true },
        actions: [{ action_id: b.action_id, type: 'button', value: b.value, action_ts: '1' }],
      }),
    );
  const command = (replica: 'a' | 'b', user: string, line: string) =>
    signer.post(to(replica), signer.command({ teamId: TEAM, userId: user, channelId: CHANNEL, text: line }));
  const linkCodes = (user: string) =>
    slack.callsTo('chat.postEphemeral').filter((c) => c.body['user'] === user && text(c).includes('Your link code'));

  beforeAll(async () => {
    slack = await startSlackApi();
    r = await replicas(
      {
        platform: 'slack',
        workspace: TEAM,
        provider: 'github',
        servers: [{ name: 'web', grant: true }],
        llm: obedientModel(),
        shell: false,
        env: {
          ...slack.appEnv(SIGNING, 'xoxb-replicas-bot'),
          ONBEHALF_ADMINS: `slack:${TEAM}:UADMIN,shell:local:admin`,
        },
      },
      // Replica b takes requests but runs no tool workers and no agent turns: what it starts runs on a.
      { runner: { startWorkers: false } },
    );
    expect((await r.w.app.policy.rule(r.w.org.id, 'allow', 'web', { tools: '*' })).ok).toBe(true);
  }, 60_000);
  afterAll(async () => {
    await r?.stop();
    await slack?.stop();
  });

  it('the same event delivered to replica a, then retried to replica b, runs once', async () => {
    const m = mention('UALICE', 'onbehalf link');
    expect((await deliver('a', m)).status).toBe(200);
    await vi.waitFor(() => expect(linkCodes('UALICE')).toHaveLength(1));
    expect((await deliver('b', m, { retryNum: 1, retryReason: 'http_timeout' })).status).toBe(200);
    expect((await deliver('a', m, { retryNum: 2, retryReason: 'http_timeout' })).status).toBe(200);
    // A different event after the retries is answered: the retries were seen and dropped, not queued behind.
    const other = mention('UALICE', 'onbehalf link');
    expect((await deliver('b', other)).status).toBe(200);
    await vi.waitFor(() => expect(linkCodes('UALICE')).toHaveLength(2));
  });

  it('the same event delivered to both replicas at once runs once', async () => {
    const m = mention('UBOB', 'onbehalf link');
    const [x, y] = await Promise.all([deliver('a', m), deliver('b', m, { retryNum: 1 })]);
    expect([x.status, y.status]).toEqual([200, 200]);
    const other = mention('UBOB', 'onbehalf whoami');
    await deliver('a', other);
    await slack.waitFor('chat.postEphemeral', (c) => c.body['user'] === 'UBOB' && text(c).includes('You are'));
    expect(linkCodes('UBOB')).toHaveLength(1);
  });

  /** Resolves once a finished message in the channel's thread `thread` matches `where`. */
  const inThread = (thread: string, where: (t: string) => boolean, timeout = 20_000) =>
    vi.waitFor(
      () => {
        const m = slack.visible(CHANNEL).find((x) => !x.streaming && x.thread_ts === thread && where(x.text));
        if (!m) throw new Error('no such answer in the thread yet');
        return m;
      },
      { timeout, interval: 20 },
    );
  const privately = (user: string, where: (t: string) => boolean) =>
    slack.waitFor('chat.postEphemeral', (c) => c.body['user'] === user && where(text(c)), 20_000);

  it("bob's call waits in a turn run on replica a; his OAuth flow ends on replica b; the call runs and the answer lands in his thread", async () => {
    const m = mention('UBOB', 'call web.echo {"text":"bob-from-a"}');
    expect((await deliver('a', m)).status).toBe(200);
    const prompt = await privately('UBOB', (t) => t.includes('github'));
    const link = buttonsOf(prompt).find((b) => b.url?.includes('/oauth/start'))!.url!;
    expect(new URL(link).origin).toBe(r.lb.url);
    // The balancer sends the start page to a, and everything after it (Continue, the provider's redirect) to b.
    r.lb.route = ({ method, path }) => (path === '/oauth/start' && method === 'GET' ? 'a' : 'b');
    r.w.oauth.login = 'bob-at-vendor';
    const step = await authorizeInBrowser(link);
    if (!('callbackUrl' in step)) throw new Error(`start failed: ${step.status} ${step.body}`);
    expect((await step.browser.fetch(step.callbackUrl)).status).toBe(200);
    expect([r.lb.servedBy('/oauth/start', 'GET'), r.lb.servedBy('/oauth/start', 'POST')]).toEqual(['a', 'b']);
    expect(r.lb.servedBy('/oauth/callback')).toBe('b');
    // A vendor account new to bob from an unproven browser: he confirms it in chat, and the click lands on b too.
    const ask = await privately('UBOB', (t) => t.includes('bob-at-vendor') && t.includes('confirm'));
    const yes = buttonsOf(ask).find((b) => b.value?.startsWith('connect confirm'))!;
    expect((await click('b', 'UBOB', yes)).status).toBe(200);
    const answer = await inThread(m.ts, (t) => t.includes('The tool said:') && !t.includes('Waiting'));
    expect(answer.text).toContain('bob-from-a');
    expect(r.w.mcp.calls.filter((c) => c.tool === 'echo' && c.args['text'] === 'bob-from-a')).toHaveLength(1);
  });

  it('an Approve click that lands on the other replica runs the held call once, and the turn answers in the thread', async () => {
    const m = mention('UBOB', 'call web.create_note {"text":"approved-on-b"}');
    expect((await deliver('a', m)).status).toBe(200);
    const prompt = await privately('UBOB', (t) => t.includes('wants to run') && t.includes('approved-on-b'));
    const approve = buttonsOf(prompt).find((b) => b.value?.startsWith('approve '))!;
    expect((await click('b', 'UBOB', approve)).status).toBe(200);
    expect((await click('a', 'UBOB', approve)).status).toBe(200);
    await inThread(m.ts, (t) => t.includes('The tool said:') && !t.includes('Waiting') && t.includes('approved-on-b'));
    expect(r.w.mcp.calls.filter((c) => c.tool === 'create_note' && c.args['text'] === 'approved-on-b')).toHaveLength(1);
  });

  it('an org invite from replica a is redeemed on b, and a link code from a is redeemed on b', async () => {
    const admin = shellIdentity('admin');
    const alice = shellIdentity('alice');
    const say = (app: 'a' | 'b', who: typeof admin, line: string) =>
      (app === 'a' ? r.a : r.b).app.chat.handle({
        kind: 'command',
        identity: who.identity,
        target: who.target,
        text: line,
        eventId: `rep-${++n}`,
      });
    const invite = await command('a', 'UADMIN', 'admin org invite');
    expect(invite.status).toBe(200);
    const inviteCode = /admin org join (\S+?)`/.exec(invite.text)![1]!;
    expect((await say('b', admin, `admin org join ${inviteCode}`))?.private?.text).toMatch(/joined/i);
    const [code] = linkCodes('UALICE').map((c) => /`([A-Z0-9]{8})`/.exec(text(c))![1]!);
    expect((await say('b', alice, `link ${code}`))?.private?.text).toMatch(/linked/i);
    const slackAlice = await r.a.app.identity.resolve({ platform: 'slack', workspaceId: TEAM, userId: 'UALICE' });
    expect((await r.b.app.identity.resolve(alice.identity)).user.id).toBe(slackAlice.user.id);
  });

  it('a secret form opened through replica a is submitted to replica b and stored', async () => {
    expect((await command('a', 'UADMIN', 'admin secret set org deploy_key')).status).toBe(200);
    const open = await slack.waitFor('views.open');
    const view = open.body['view'] as { callback_id: string; private_metadata: string };
    const done = await signer.post(
      to('b'),
      signer.formSubmission(view, 'replica-secret-canary', { teamId: TEAM, userId: 'UADMIN' }),
    );
    expect(done.status).toBe(200);
    expect(done.text).toContain('deploy_key');
    const org = await r.a.app.identity.orgFor('slack', TEAM);
    expect((await r.a.app.policy.secrets.get(org.id, 'org', org.id, 'deploy_key'))?.reveal()).toBe(
      'replica-secret-canary',
    );
  });
});
