import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../../src/app.js';
import { snowflake, type FakeDiscord, type FakeUser, type RecordedCall } from '../../support/discord-fake.js';
import { noteTakerModel } from '../../support/llm-server.js';
import type { LogCapture } from '../../support/logs.js';
import type { TestMcpHttpServer } from '../../support/mcp-servers/index.js';
import { discordWorld, type DiscordWorld } from '../../support/discord-world.js';

const BOT_TOKEN = 'MTEx.approvals-bot.' + 'q'.repeat(20);

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
  let dw: DiscordWorld;
  let logs: LogCapture;
  const guildId = snowflake();
  const channelId = snowflake();
  const alice: FakeUser = { id: snowflake(), username: 'alice' };
  const bob: FakeUser = { id: snowflake(), username: 'bob' };
  const notes = (text: string) => mcp.calls.filter((c) => c.tool === 'create_note' && c.args['text'] === text);
  /** The ephemeral answer to a button click (the deferred reply, edited). */
  const answerTo = async (i: { token: string }) =>
    body(await fake.waitForCall((c) => c.method === 'PATCH' && c.path.includes(i.token), 15_000)).content;

  beforeAll(async () => {
    dw = await discordWorld({ id: guildId, name: 'Acme', channels: [{ id: channelId, name: 'support' }] }, BOT_TOKEN, {
      servers: [{ name: 'notes' }],
      llm: noteTakerModel,
    });
    ({ fake } = dw);
    ({ app, mcp, logs } = dw.w);
  });
  afterAll(async () => {
    await dw?.stop();
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
    expect((await app.runner.executor.calls.get(callId))!.status).toBe('awaiting_approval');
    const refused = await app.store.execute(
      sql`select chat_identity from audit_events where decision = 'refused' and json_extract(detail, '$.callId') = ${callId}`,
    );
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
