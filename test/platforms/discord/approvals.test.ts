import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../../src/app.js';
import { freePort } from '../../../src/redis/index.js';
import { FakeDiscord, snowflake, type FakeUser, type RecordedCall } from '../../support/discord-fake.js';
import { tempDir, testConfig } from '../../support/env.js';
import { startLlmServer, toolResults, type LlmReply, type LlmRequest } from '../../support/llm-server.js';
import { LogCapture } from '../../support/logs.js';
import { startMcpHttpServer, type TestMcpHttpServer } from '../../support/mcp-servers/index.js';
import { startTestRedis } from '../../support/redis.js';

const BOT_TOKEN = 'MTEx.approvals-bot.' + 'q'.repeat(20);

/** A model that obeys any "note <text>" by calling `notes__create_note`, and repeats what it is told back. */
function model(req: LlmRequest): LlmReply {
  const last = req.messages.at(-1)!;
  const content = typeof last.content === 'string' ? last.content : JSON.stringify(last.content);
  const system = String(req.messages.find((m) => m.role === 'system')?.content ?? '');
  if (last.role === 'tool' && system.includes('waited for') && system.includes('to approve it'))
    return { text: `Resumed: ${toolResults(req).at(-1) ?? ''}` };
  if (last.role === 'user')
    return { toolCalls: [{ name: 'notes__create_note', args: { text: content.replace(/^.*note /, '') } }] };
  return { text: toolResults(req).at(-1)?.includes('Waiting for approval') ? 'I asked you to approve it.' : 'Done.' };
}

type Body = {
  content: string;
  flags?: number;
  components?: { components: { custom_id?: string; label?: string; style?: number }[] }[];
};
const body = (c: RecordedCall) => c.body as Body;

describe("Discord: a tool that changes things waits for the caller's Approve", () => {
  let fake: FakeDiscord;
  let app: App;
  let mcp: TestMcpHttpServer;
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  let llm: Awaited<ReturnType<typeof startLlmServer>>;
  const logs = new LogCapture();
  const dir = tempDir();
  const guildId = snowflake();
  const channelId = snowflake();
  const alice: FakeUser = { id: snowflake(), username: 'alice' };
  const bob: FakeUser = { id: snowflake(), username: 'bob' };
  const notes = (text: string) => mcp.calls.filter((c) => c.tool === 'create_note' && c.args['text'] === text);
  /** The ephemeral answer to a button click (the deferred reply, edited). */
  const answerTo = async (i: { token: string }) =>
    body(await fake.waitForCall((c) => c.method === 'PATCH' && c.path.includes(i.token), 15_000)).content;

  beforeAll(async () => {
    [fake, mcp, redis, llm] = await Promise.all([
      FakeDiscord.start({ guilds: [{ id: guildId, name: 'Acme', channels: [{ id: channelId, name: 'support' }] }] }),
      startMcpHttpServer(),
      startTestRedis(),
      startLlmServer(model),
    ]);
    const port = await freePort();
    app = await createApp(
      testConfig(dir.dir, {
        PORT: String(port),
        PUBLIC_URL: `http://127.0.0.1:${port}`,
        REDIS_URL: redis.url,
        DISCORD_TOKEN: BOT_TOKEN,
        DISCORD_APPLICATION_ID: fake.applicationId,
        DISCORD_API_URL: fake.apiUrl,
        LLM_BASE_URL: llm.baseUrl,
        LLM_MODEL: 'scripted',
      }),
      { mode: 'serve', logDestination: logs },
    );
    await app.start();
    const org = app.identity.orgFor('discord', guildId, 'Acme');
    expect((await app.policy.addServer(org.id, { name: 'notes', transport: 'http', url: mcp.url })).ok).toBe(true);
  });
  afterAll(async () => {
    await app?.stop();
    await Promise.all([mcp?.stop(), fake?.stop(), redis?.stop(), llm?.close()]);
    dir.cleanup();
  });

  it("the prompt goes to Alice alone with Approve/Deny buttons; Bob's click is refused; Alice's two clicks run it once (SECURITY 35)", async () => {
    fake.message(alice, { guildId, channelId }, 'note rotate the keys');
    const dm = fake.dmChannelOf(alice.id);
    const prompt = await fake.waitForCall(
      (c) => c.method === 'POST' && c.path === `/channels/${dm}/messages` && body(c).content.includes('wants to run'),
      20_000,
    );
    expect(body(prompt).content).toContain('`notes.create_note` as you');
    expect(body(prompt).content).toContain('• text: rotate the keys');
    const [approve, deny] = body(prompt).components![0]!.components;
    expect(approve).toMatchObject({
      label: 'Approve',
      style: 3,
      custom_id: expect.stringMatching(/^obc:approve \S+$/),
    });
    expect(deny).toMatchObject({ label: 'Deny', style: 4, custom_id: expect.stringMatching(/^obc:deny \S+$/) });
    const callId = approve!.custom_id!.split(' ')[1]!;
    // Only Alice's DM carries the request; nothing reached the MCP server.
    expect(fake.containing(callId).map((c) => c.path)).toEqual([`/channels/${dm}/messages`]);
    await fake.waitForCall(
      // The answer is the turn's status message, edited (or a post where none stood).
      (c) =>
        c.path.startsWith(`/channels/${channelId}/messages`) && body(c).content.includes('I asked you to approve it.'),
      15_000,
    );
    expect(notes('rotate the keys')).toEqual([]);

    // Bob clicks a button carrying Alice's call (custom ids are not secrets).
    expect(await answerTo(fake.click(bob, { guildId, channelId }, approve!.custom_id!))).toBe(
      'Only the person the assistant asked can answer this request; nothing was changed.',
    );
    expect(app.runner.executor.calls.get(callId)!.status).toBe('awaiting_approval');
    const refused = app.db.$client
      .prepare(
        `select chat_identity from audit_events where decision = 'refused' and json_extract(detail, '$.callId') = ?`,
      )
      .all(callId);
    expect(refused).toEqual([{ chat_identity: `discord:${guildId}:${bob.id}` }]);

    const first = fake.click(alice, { channelId: dm }, approve!.custom_id!);
    const second = fake.click(alice, { channelId: dm }, approve!.custom_id!);
    expect([await answerTo(first), await answerTo(second)].sort()).toEqual([
      'Approved: `notes.create_note` runs now as you; the assistant continues with its result.',
      'That call was already approved; it runs once.',
    ]);
    await fake.waitForCall(
      (c) =>
        c.path.startsWith(`/channels/${channelId}/messages`) &&
        /Resumed: The person approved this call\. `notes\.create_note`:\s+note #\d+: rotate the keys/.test(
          body(c).content,
        ),
      20_000,
    );
    expect(notes('rotate the keys')).toHaveLength(1);
    expect(logs.containing(BOT_TOKEN)).toEqual([]);
  });
});
