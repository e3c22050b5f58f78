import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { snowflake, type FakeDiscord, type FakeUser, type RecordedCall } from '../support/discord-fake.js';
import type { LogCapture } from '../support/logs.js';
import type { TestMcpHttpServer } from '../support/mcp-servers/index.js';
import { authorizeInBrowser, type OAuthTestServer } from '../support/oauth-server.js';
import { discordWorld, type DiscordWorld } from '../support/discord-world.js';

const BOT_TOKEN = 'MTEx.e2e-bot-canary.' + 'w'.repeat(20);
const CLIENT_SECRET = 'gh-client-secret-canary-e2e';

type Body = { content: string; flags?: number; components?: { components: { url?: string; label?: string }[] }[] };
const body = (c: RecordedCall) => c.body as Body;

describe("Discord end to end: /onbehalf run with each person's own GitHub grant", () => {
  let fake: FakeDiscord;
  let dw: DiscordWorld;
  let app: App;
  let vendor: OAuthTestServer;
  let mcp: TestMcpHttpServer;
  let logs: LogCapture;
  const guildId = snowflake();
  const channelId = snowflake();
  const alice: FakeUser = { id: snowflake(), username: 'alice' };
  const bob: FakeUser = { id: snowflake(), username: 'bob' };

  beforeAll(async () => {
    // What an admin set up: GitHub as a provider, a GitHub MCP server that gets each caller's token.
    dw = await discordWorld({ id: guildId, name: 'Acme', channels: [{ id: channelId, name: 'support' }] }, BOT_TOKEN, {
      workspaceName: 'Acme',
      provider: 'github',
      client: { id: 'gh-client', secret: CLIENT_SECRET },
      servers: [{ name: 'github', grant: true }],
      // The app's own private redis-server, as a first start without REDIS_URL has it.
      redis: false,
    });
    ({ fake } = dw);
    ({ app, oauth: vendor, mcp, logs } = dw.w);
    expect((await app.policy.rule(dw.w.org.id, 'allow', 'github', { tools: '*' })).ok).toBe(true);
  });
  afterAll(async () => {
    await dw?.stop();
  });

  const run = async (user: FakeUser, text: string) => {
    const i = fake.command(user, { guildId, channelId }, ['run'], { args: `github.echo {"text":"${text}"}` });
    const deferred = await fake.waitForCall((c) => c.path.startsWith(`/interactions/${i.id}/`));
    return { ...i, deferred };
  };
  const followUps = (token: string) => (c: RecordedCall) =>
    c.method === 'POST' && c.path === `/webhooks/${fake.applicationId}/${token}`;
  const connectUrl = (c: RecordedCall) => body(c).components![0]!.components[0]!.url!;
  /** The held grant's question comes privately where the call waits; the user clicks "Yes, that's me". */
  const confirmHeld = async (user: FakeUser, token: string, login: string) => {
    const ask = await fake.waitForCall(
      (c) => followUps(token)(c) && body(c).content.includes(login) && body(c).content.includes('confirm'),
      20_000,
    );
    expect(body(ask).flags).toBe(64);
    const yes = (body(ask).components ?? [])
      .flatMap((r) => r.components)
      .find((b) => (b as { custom_id?: string }).custom_id?.includes('connect confirm')) as { custom_id: string };
    expect(mcp.calls.filter((c) => c.args['text'] === (user === alice ? 'from alice' : 'from bob'))).toHaveLength(0);
    fake.click(user, { guildId, channelId }, yes.custom_id);
  };

  it('alice: deferred ephemeral reply → private connect prompt → OAuth → the result, made with her token', async () => {
    const a = await run(alice, 'from alice');
    expect(a.deferred.body).toEqual({ type: 5, data: { flags: 64 } });

    const prompt = await fake.waitForCall(followUps(a.token), 15_000);
    expect(body(prompt).flags).toBe(64);
    expect(body(prompt).content).toContain('github');
    const url = connectUrl(prompt);
    expect(url).toMatch(new RegExp(`^${app.config.publicUrl}/oauth/start\\?t=`));
    expect(mcp.calls).toHaveLength(0);

    vendor.login = 'alice-gh';
    const step = await authorizeInBrowser(url);
    if (!('callbackUrl' in step)) throw new Error(`start failed: ${step.status}`);
    expect((await step.browser.fetch(step.callbackUrl)).status).toBeLessThan(400);
    await confirmHeld(alice, a.token, 'alice-gh');

    // The answer edits the placeholder follow-up posted just before the tool ran.
    const edits = (token: string) => (c: RecordedCall) =>
      c.method === 'PATCH' && c.path.startsWith(`/webhooks/${fake.applicationId}/${token}/messages/`);
    const result = await fake.waitForCalls(
      (c) => edits(a.token)(c) && body(c).content.includes('from alice'),
      1,
      20_000,
    );
    expect(
      fake.calls.filter((c) => followUps(a.token)(c) && body(c).content.includes('Running `github.echo`')),
    ).toHaveLength(1);
    // She was told, privately and before the result, which GitHub account now serves her.
    const confirmed = fake.calls.find((c) => followUps(a.token)(c) && body(c).content.includes('alice-gh'))!;
    expect(body(confirmed).flags).toBe(64);
    expect(fake.calls.indexOf(confirmed)).toBeLessThan(fake.calls.indexOf(result[0]!));
    expect(body(result[0]!).flags ?? 0).toBe(0);
    expect(mcp.calls.filter((c) => c.tool === 'echo')).toHaveLength(1);
    expect(mcp.calls[0]!.seen['authorization']).toBe(`Bearer ${vendor.issuedAccessTokens[0]}`);
  });

  it("bob gets his own prompt, not alice's grant; once connected his call carries his token", async () => {
    const b = await run(bob, 'from bob');
    const prompt = await fake.waitForCall(followUps(b.token), 15_000);
    expect(body(prompt).flags).toBe(64);
    expect(mcp.calls.filter((c) => c.args['text'] === 'from bob')).toHaveLength(0);

    vendor.login = 'bob-gh';
    const step = await authorizeInBrowser(connectUrl(prompt));
    if (!('callbackUrl' in step)) throw new Error(`start failed: ${step.status}`);
    await step.browser.fetch(step.callbackUrl);
    await confirmHeld(bob, b.token, 'bob-gh');
    await fake.waitForCalls(
      (c) =>
        c.method === 'PATCH' &&
        c.path.startsWith(`/webhooks/${fake.applicationId}/${b.token}/messages/`) &&
        body(c).content.includes('from bob'),
      1,
      20_000,
    );
    const bobs = mcp.calls.find((c) => c.args['text'] === 'from bob')!;
    expect(bobs.seen['authorization']).toBe(`Bearer ${vendor.issuedAccessTokens[1]}`);
    expect(bobs.seen['authorization']).not.toBe(mcp.calls[0]!.seen['authorization']);
  });

  it('a mention in a channel gets an answer replying to that message; a DM gets one in the DM', async () => {
    const m = fake.message(alice, { guildId, channelId }, 'what can you do?');
    const answer = await fake.waitForCall(
      (c) =>
        c.method === 'POST' &&
        c.path === `/channels/${channelId}/messages` &&
        (c.body as { message_reference?: { message_id: string } }).message_reference?.message_id === m.id,
      15_000,
    );
    expect(body(answer).content).toContain('github.echo');
    const dm = fake.dmChannelOf(bob.id);
    fake.message(bob, { channelId: dm }, 'hello?');
    const dmAnswer = await fake.waitForCall(
      (c) => c.method === 'POST' && c.path === `/channels/${dm}/messages`,
      15_000,
    );
    expect(body(dmAnswer).content).toContain('/onbehalf run');
  });

  it('no token, client secret or bot token appears in any Discord call or log line', () => {
    const canaries = [...vendor.issuedAccessTokens, ...vendor.issuedRefreshTokens, CLIENT_SECRET];
    expect(fake.containing(...canaries)).toEqual([]);
    expect(logs.containing(...canaries, BOT_TOKEN)).toEqual([]);
  });
});
