import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprint } from '../../support/mcp-servers/index.js';
import { snowflake, type FakeDiscord, type FakeUser } from '../../support/discord-fake.js';
import { discordWorld, type DiscordWorld } from '../../support/discord-world.js';

const BOT_TOKEN = 'MTEx.elicit-canary.' + 'e'.repeat(20);
const CANARY = 'vk-discordElicitCanary_3c2b1a0f9e8d7c6b';

describe('Discord: a form an MCP server asks for during a call', () => {
  let fake: FakeDiscord;
  let dw: DiscordWorld;
  const guildId = snowflake();
  const channelId = snowflake();
  const place = { guildId, channelId };
  const ana: FakeUser = { id: snowflake(), username: 'ana' };
  const bob: FakeUser = { id: snowflake(), username: 'bob' };

  beforeAll(async () => {
    dw = await discordWorld({ id: guildId, name: 'Acme', channels: [{ id: channelId, name: 'help' }] }, BOT_TOKEN, {
      servers: [{ name: 'vendor', timeoutMs: 20_000 }],
      redis: false,
    });
    ({ fake } = dw);
    await dw.w.app.policy.rule(dw.w.org.id, 'allow', 'vendor', { tools: '*' });
  }, 30_000);
  afterAll(async () => {
    await dw?.stop();
  });

  /** The text of what Discord was sent in answer to interaction `token`. */
  const answerTo = async (token: string) =>
    JSON.stringify((await fake.waitForCall((c) => c.method === 'PATCH' && c.path.includes(token))).body);

  type Modal = {
    type: number;
    data: {
      custom_id: string;
      title: string;
      components: { components: { custom_id: string; value?: string; required: boolean }[] }[];
    };
  };
  /** The modal Discord was asked to show in answer to interaction `id`. */
  const modalFor = async (id: string) =>
    (await fake.waitForCall((c) => c.path.startsWith(`/interactions/${id}/`))).body as Modal;
  /** Runs `vendor.ask_profile` as Ana; her private prompt's Answer and Decline buttons. */
  const ask = async () => {
    const from = fake.calls.length;
    fake.command(ana, place, ['run'], { args: 'vendor.ask_profile {}' });
    const prompt = await fake.waitForCall(
      (c) => fake.calls.indexOf(c) >= from && JSON.stringify(c.body ?? '').includes('Tell us about you'),
      20_000,
    );
    const said = JSON.stringify(prompt.body);
    return {
      answer: said.match(/obc:answer [A-Za-z0-9_-]+/)![0],
      decline: said.match(/obc:answer [A-Za-z0-9_-]+ decline/)![0],
    };
  };

  it('a form of seven fields is answered in two modals (five, then two), defaults filled in; the caller alone opens and fills each part, and the server gets every value', async () => {
    const { answer } = await ask();
    const bobs = fake.click(bob, place, answer);
    expect(await answerTo(bobs.token)).toContain('Only the person whose call asked this can answer it');

    const mine = fake.click(ana, place, answer);
    const opener = (await answerTo(mine.token)).match(/obf:[^"]+/)![0];
    const open = fake.click(ana, place, opener);
    const first = await modalFor(open.id);
    expect(first.type).toBe(9);
    expect(first.data.title).toBe('vendor.ask_profile (1/2)');
    const inputs = first.data.components.map((r) => r.components[0]!);
    expect(inputs.map((i) => i.custom_id)).toEqual(['name', 'nickname', 'age', 'score', 'subscribed']);
    expect(inputs.map((i) => i.value)).toEqual([undefined, 'Sam', undefined, '9.5', 'yes']);
    expect(inputs.map((i) => i.required)).toEqual([true, false, true, false, false]);

    // Bob cannot fill in Ana's form, even with its id.
    const forged = fake.submitModal(bob, place, first.data.custom_id, { name: 'Bob', age: '3' });
    const refused = await fake.waitForCall((c) => c.path.startsWith(`/interactions/${forged.id}/`));
    expect(JSON.stringify(refused.body)).toContain('opened by someone else');

    const part1 = fake.submitModal(ana, place, first.data.custom_id, {
      name: 'Ana',
      nickname: '',
      age: '41',
      score: '',
      subscribed: 'no',
    });
    const kept = await fake.waitForCall((c) => c.path.startsWith(`/interactions/${part1.id}/`));
    expect(kept.status).toBe(204);
    const keptText = JSON.stringify(kept.body);
    expect(keptText).toContain('part 1 of 2 kept');
    const next = keptText.match(/obn:[^"]+/)![0];

    expect(JSON.stringify((await modalFor(fake.click(bob, place, next).id)).data ?? '')).toContain(
      'opened by someone else',
    );
    const second = await modalFor(fake.click(ana, place, next).id);
    expect(second.type).toBe(9);
    expect(second.data.title).toBe('vendor.ask_profile (2/2)');
    expect(second.data.components.map((r) => r.components[0]!.custom_id)).toEqual(['plan', 'api_key']);
    expect(second.data.components.map((r) => r.components[0]!.value)).toEqual(['free', undefined]);

    const sent = fake.submitModal(ana, place, second.data.custom_id, { plan: 'team', api_key: CANARY });
    expect(await answerTo(sent.token)).toContain('Sent to `vendor.ask_profile`');
    const result = await fake.waitForCall(
      (c) => JSON.stringify(c.body ?? '').includes('\\"action\\":\\"accept\\"'),
      20_000,
    );
    const content = JSON.stringify(result.body)
      .replace(/\\"/g, '"')
      .match(/"content":(\{[^}]*\})/)![1]!;
    expect(JSON.parse(content)).toEqual({
      name: 'Ana',
      nickname: 'Sam',
      age: 41,
      score: 9.5,
      subscribed: false,
      plan: 'team',
      api_key: fingerprint(CANARY),
    });
    // The same part once more goes nowhere.
    const again = fake.submitModal(ana, place, second.data.custom_id, { plan: 'pro', api_key: 'x' });
    expect(
      JSON.stringify((await fake.waitForCall((c) => c.path.startsWith(`/interactions/${again.id}/`))).body),
    ).toContain('lapsed or was sent already');
    expect(JSON.stringify(fake.calls)).not.toContain(CANARY);
    expect(dw.w.logs.containing(CANARY)).toEqual([]);
  });

  it('Decline reaches the server as a decline', async () => {
    const { decline } = await ask();
    const no = fake.click(ana, place, decline);
    expect(await answerTo(no.token)).toContain('Declined');
    await fake.waitForCall((c) => JSON.stringify(c.body ?? '').includes('\\"action\\":\\"decline\\"'), 20_000);
  });
});
