import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snowflake, type FakeDiscord, type FakeUser } from '../../support/discord-fake.js';
import { discordWorld, type DiscordWorld } from '../../support/discord-world.js';

const BOT_TOKEN = 'MTEx.elicit-canary.' + 'e'.repeat(20);

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

  it('the caller alone opens it (button → modal of at most 5 inputs, defaults filled in); a required field beyond the fifth is named, and Decline is sent', async () => {
    fake.command(ana, place, ['run'], { args: 'vendor.ask_profile {}' });
    const prompt = await fake.waitForCall((c) => JSON.stringify(c.body ?? '').includes('Tell us about you'), 20_000);
    const said = JSON.stringify(prompt.body);
    const answer = said.match(/obc:answer [A-Za-z0-9_-]+/)![0];
    const decline = said.match(/obc:answer [A-Za-z0-9_-]+ decline/)![0];

    const bobs = fake.click(bob, place, answer);
    expect(await answerTo(bobs.token)).toContain('Only the person whose call asked this can answer it');

    const mine = fake.click(ana, place, answer);
    const opener = (await answerTo(mine.token)).match(/obf:[^"]+/)![0];
    const open = fake.click(ana, place, opener);
    const modal = (await fake.waitForCall((c) => c.path.startsWith(`/interactions/${open.id}/`))).body as {
      type: number;
      data: {
        custom_id: string;
        components: { components: { custom_id: string; value?: string; required: boolean }[] }[];
      };
    };
    expect(modal.type).toBe(9);
    const inputs = modal.data.components.map((r) => r.components[0]!);
    expect(inputs.map((i) => i.custom_id)).toEqual(['name', 'nickname', 'age', 'score', 'subscribed']);
    expect(inputs.map((i) => i.value)).toEqual([undefined, 'Sam', undefined, '9.5', 'yes']);
    expect(inputs.map((i) => i.required)).toEqual([true, false, true, false, false]);

    const sent = fake.submitModal(ana, place, modal.data.custom_id, {
      name: 'Ana',
      age: '41',
      nickname: '',
      score: '',
      subscribed: 'yes',
    });
    expect(await answerTo(sent.token)).toContain('Not sent: API key is required.');

    const no = fake.click(ana, place, decline);
    expect(await answerTo(no.token)).toContain('Declined');
    await fake.waitForCall((c) => JSON.stringify(c.body ?? '').includes('\\"action\\":\\"decline\\"'), 20_000);
  });
});
