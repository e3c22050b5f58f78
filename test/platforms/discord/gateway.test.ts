import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DiscordGateway } from '../../../src/platforms/discord/index.js';
import { Secret } from '../../../src/crypto/index.js';
import { createLogger } from '../../../src/log.js';
import type { Ack, ChatInbound, Inbound } from '../../../src/chat/types.js';
import { DISCORD_EPOCH, FakeDiscord, snowflake, type FakeUser, type RecordedCall } from '../../support/discord-fake.js';
import { LogCapture } from '../../support/logs.js';

/** The seam only: records what the adapter translated and answers with a scripted Ack. */
class RecordingCore implements ChatInbound {
  readonly events: Inbound[] = [];
  answer: (e: Inbound) => Ack | Promise<Ack> = () => undefined;
  async handle(e: Inbound): Promise<Ack> {
    this.events.push(e);
    return this.answer(e);
  }
  async next(n: number, timeoutMs = 5000): Promise<Inbound> {
    await vi.waitFor(() => expect(this.events.length, `inbound event #${n}`).toBeGreaterThanOrEqual(n), {
      timeout: timeoutMs,
      interval: 20,
    });
    return this.events[n - 1]!;
  }
}

const BOT_TOKEN = 'MTEx.bot-token-canary.' + 'x'.repeat(20);
const alice: FakeUser = { id: snowflake(), username: 'alice' };
const bob: FakeUser = { id: snowflake(), username: 'bob', permissions: '8' };

describe('Discord gateway adapter against a loopback Discord', () => {
  let fake: FakeDiscord;
  let gateway: DiscordGateway;
  const core = new RecordingCore();
  const logs = new LogCapture();
  let guildId: string;
  let channelId: string;
  const callback = (interactionId: string) => (c: RecordedCall) => c.path.startsWith(`/interactions/${interactionId}/`);

  beforeAll(async () => {
    fake = await FakeDiscord.start();
    guildId = fake.guilds[0]!.id;
    channelId = fake.guilds[0]!.channels[0]!.id;
    gateway = new DiscordGateway({
      token: new Secret(BOT_TOKEN),
      applicationId: fake.applicationId,
      apiUrl: fake.apiUrl,
      log: createLogger('debug', logs),
    });
    await gateway.start(core);
  });
  afterAll(async () => {
    await gateway?.stop();
    await fake?.stop();
  });

  it('identifies with Guilds, GuildMessages and DirectMessages only, and becomes ready with its guild', () => {
    const identify = fake.gatewayOps.find((o) => o.op === 2)!.d as { intents: number };
    expect(identify.intents).toBe(1 | 512 | 4096);
    expect(gateway.client.isReady()).toBe(true);
    expect(gateway.client.guilds.cache.has(guildId)).toBe(true);
  });

  it('asks for the privileged MessageContent intent only when DISCORD_MESSAGE_CONTENT is set', async () => {
    const other = new DiscordGateway({
      token: new Secret(BOT_TOKEN),
      applicationId: fake.applicationId,
      apiUrl: fake.apiUrl,
      log: createLogger('silent'),
      messageContent: true,
    });
    expect(other.client.options.intents.has('MessageContent')).toBe(true);
    expect(gateway.client.options.intents.has('MessageContent')).toBe(false);
    await other.stop();
  });

  it('/onbehalf run is deferred ephemerally at once, the core gets the shell words, and its answer fills the reply', async () => {
    core.answer = () => ({ private: { text: 'Running `github.whoami` as you…' } });
    const before = core.events.length;
    const { id, token } = fake.command(alice, { guildId, channelId }, ['run'], {
      args: 'github.whoami {"verbose":true}',
    });
    const cb = await fake.waitForCall(callback(id));
    expect(cb.body).toEqual({ type: 5, data: { flags: 64 } });
    expect(cb.authorization).toBeUndefined();
    const e = await core.next(before + 1);
    expect(e).toMatchObject({
      kind: 'command',
      text: 'run github.whoami {"verbose":true}',
      eventId: id,
      identity: {
        platform: 'discord',
        workspaceId: guildId,
        userId: alice.id,
        displayName: 'alice',
        workspaceName: 'Acme',
      },
      target: {
        platform: 'discord',
        workspaceId: guildId,
        channelId,
        userId: alice.id,
        isDirect: false,
        interaction: { id, token },
      },
    });
    const expiresAt = (e.target.interaction!.expiresAt ?? 0) - Date.now();
    expect(expiresAt).toBeGreaterThan(14 * 60_000);
    expect(expiresAt).toBeLessThanOrEqual(15 * 60_000);
    const edit = await fake.waitForCall(
      (c) => c.method === 'PATCH' && c.path === `/webhooks/${fake.applicationId}/${token}/messages/@original`,
    );
    expect(edit.body).toMatchObject({ content: 'Running `github.whoami` as you…' });
    expect(fake.calls.indexOf(cb)).toBeLessThan(fake.calls.indexOf(edit));
  });

  it('admin subcommands arrive as `admin <word> <args>`', async () => {
    core.answer = () => ({ private: { text: 'ok' } });
    const before = core.events.length;
    fake.command(bob, { guildId, channelId }, ['admin', 'role'], { args: 'admin @carol' });
    expect(await core.next(before + 1)).toMatchObject({ kind: 'command', text: 'admin role admin @carol' });
  });

  it('a mention in a channel reaches the core without the mention, and the answer replies to that message', async () => {
    core.answer = () => undefined;
    const before = core.events.length;
    const { id } = fake.message(alice, { guildId, channelId }, 'what are my open issues?');
    const e = await core.next(before + 1);
    expect(e).toMatchObject({
      kind: 'message',
      text: 'what are my open issues?',
      eventId: id,
      target: { channelId, messageId: id, isDirect: false, workspaceId: guildId },
    });
    const { messageId } = await gateway.outbound.reply(e.target, { text: 'You have 3 open issues.' });
    const post = await fake.waitForCall(
      (c) => c.method === 'POST' && c.path === `/channels/${channelId}/messages` && c.raw.includes('3 open issues'),
    );
    expect(post.body).toMatchObject({
      content: 'You have 3 open issues.',
      message_reference: { message_id: id },
      allowed_mentions: { parse: [] },
    });
    expect(post.authorization).toBe(`Bot ${BOT_TOKEN}`);
    expect(messageId).toMatch(/^\d+$/);
  });

  it('a message in a channel that does not mention the bot is ignored', async () => {
    const before = core.events.length;
    fake.message(alice, { guildId, channelId }, 'chatting with humans', { mention: false });
    fake.message(alice, { guildId, channelId }, 'marker');
    await core.next(before + 1);
    expect(core.events.slice(before).map((e) => (e as { text: string }).text)).toEqual(['marker']);
  });

  it('a DM is served as the one guild the sender shares with the bot, and answered in the DM', async () => {
    core.answer = () => ({ private: { text: 'Only for you.' } });
    const before = core.events.length;
    const dm = fake.dmChannelOf(alice.id);
    const { id } = fake.message(alice, { channelId: dm }, 'hello in private');
    const e = await core.next(before + 1);
    expect(e).toMatchObject({
      kind: 'message',
      text: 'hello in private',
      eventId: id,
      identity: { workspaceId: guildId, userId: alice.id },
      target: { channelId: dm, isDirect: true, workspaceId: guildId },
    });
    const post = await fake.waitForCall(
      (c) => c.path === `/channels/${dm}/messages` && c.raw.includes('Only for you.'),
    );
    expect(post.body).not.toHaveProperty('message_reference');
  });

  it('a secret form opens as the first response (a modal), and the submitted value reaches the core only as a Secret', async () => {
    const canary = 'ghp_modalCanary0123456789abcdefABCDEF';
    const form = {
      formId: 'secret:org:org1:deploy_key',
      title: 'Secret deploy_key',
      fields: [{ id: 'value', label: 'Value of deploy_key' }],
    };
    core.answer = (e) =>
      e.kind === 'command'
        ? { private: { text: 'Enter it in the form.' }, form }
        : { private: { text: 'Stored org secret deploy_key.' } };
    const before = core.events.length;
    const { id } = fake.command(bob, { guildId, channelId }, ['admin', 'secret'], { args: 'set org deploy_key' });
    const cb = await fake.waitForCall(callback(id));
    expect(cb.body).toMatchObject({
      type: 9,
      data: { custom_id: 'obm:secret:org:org1:deploy_key', title: 'Secret deploy_key' },
    });
    await core.next(before + 1);

    const submit = fake.submitModal(bob, { guildId, channelId }, 'obm:secret:org:org1:deploy_key', { value: canary });
    const e = await core.next(before + 2);
    expect(e.kind).toBe('form_submit');
    if (e.kind !== 'form_submit') return;
    expect(e.formId).toBe('secret:org:org1:deploy_key');
    expect(e.values['value']).toBeInstanceOf(Secret);
    expect(e.values['value']!.reveal()).toBe(canary);
    expect(JSON.stringify(e)).not.toContain(canary);
    const done = await fake.waitForCall((c) => c.method === 'PATCH' && c.path.includes(submit.token));
    expect(done.body).toMatchObject({ content: 'Stored org secret deploy_key.' });
    expect((await fake.waitForCall(callback(submit.id))).body).toEqual({ type: 5, data: { flags: 64 } });
    expect(fake.containing(canary)).toEqual([]);
    expect(logs.containing(canary, BOT_TOKEN)).toEqual([]);
  });

  it('a form the core returns late arrives as a button that opens the same modal', async () => {
    const form = {
      formId: 'provider-secret:github',
      title: 'Client secret for github',
      fields: [{ id: 'value', label: 'Client secret' }],
    };
    core.answer = async () => {
      await new Promise((r) => setTimeout(r, 2300));
      return { private: { text: 'Provider added.' }, form };
    };
    const { id, token } = fake.command(bob, { guildId, channelId }, ['admin', 'provider'], {
      args: 'add github --client-id abc',
    });
    const cb = await fake.waitForCall(callback(id), 5000);
    expect(cb.body).toEqual({ type: 5, data: { flags: 64 } });
    expect(cb.at - (Number(BigInt(id) >> 22n) + DISCORD_EPOCH)).toBeLessThan(3000);
    const edit = await fake.waitForCall((c) => c.method === 'PATCH' && c.path.includes(token), 5000);
    const button = (edit.body as { components: { components: { custom_id: string }[] }[] }).components[0]!
      .components[0]!;
    expect(button.custom_id).toBe('obf:provider-secret:github');
    const click = fake.click(bob, { guildId, channelId }, button.custom_id);
    const modal = await fake.waitForCall(callback(click.id));
    expect(modal.body).toMatchObject({
      type: 9,
      data: { custom_id: 'obm:provider-secret:github', title: 'Client secret for github' },
    });
  });

  it('an interaction is acknowledged well inside 3 s even when the core takes longer (SECURITY 23)', async () => {
    let release!: () => void;
    core.answer = () => new Promise<Ack>((r) => (release = () => r({ private: { text: 'finally' } })));
    const started = Date.now();
    const { id, token } = fake.command(alice, { guildId, channelId }, ['tools']);
    const cb = await fake.waitForCall(callback(id), 3000);
    expect(cb.at - started).toBeLessThan(1000);
    expect(cb.body).toEqual({ type: 5, data: { flags: 64 } });
    await new Promise((r) => setTimeout(r, 3100));
    release();
    const edit = await fake.waitForCall((c) => c.method === 'PATCH' && c.path.includes(token));
    expect(edit.body).toMatchObject({ content: 'finally' });
  });

  it('when the core fails, the caller is told so privately, and the log holds no interaction token', async () => {
    core.answer = () => {
      throw new Error('database is locked');
    };
    const { token } = fake.command(alice, { guildId, channelId }, ['connections']);
    const edit = await fake.waitForCall((c) => c.method === 'PATCH' && c.path.includes(token));
    expect((edit.body as { content: string }).content).toContain('did not work');
    expect(logs.containing('database is locked').length).toBe(1);
    expect(logs.containing(token)).toEqual([]);
  });

  it('a dropped gateway connection is resumed and later events still arrive', async () => {
    core.answer = () => undefined;
    const identifies = fake.identifies;
    fake.dropConnection();
    // Sent while the client is away: replayed on RESUME.
    fake.message(alice, { guildId, channelId }, 'sent during the outage');
    await fake.waitConnected();
    const before = core.events.length;
    fake.message(alice, { guildId, channelId }, 'after the outage');
    await core.next(before + 1);
    const texts = core.events.map((e) => (e as { text?: string }).text);
    expect(texts).toContain('sent during the outage');
    expect(texts).toContain('after the outage');
    expect(fake.resumes).toBe(1);
    expect(fake.identifies).toBe(identifies);
  });
});

describe('Discord DMs when the bot is in several guilds', () => {
  let fake: FakeDiscord;
  let gateway: DiscordGateway;
  const core = new RecordingCore();
  const both: FakeUser = { id: snowflake(), username: 'both' };
  const onlyB: FakeUser = { id: snowflake(), username: 'onlyb' };
  const guildA = { id: snowflake(), name: 'Alpha', channels: [{ id: snowflake(), name: 'a' }], members: [both.id] };
  const guildB = {
    id: snowflake(),
    name: 'Beta',
    channels: [{ id: snowflake(), name: 'b' }],
    members: [both.id, onlyB.id],
  };

  beforeAll(async () => {
    fake = await FakeDiscord.start({ guilds: [guildA, guildB] });
    gateway = new DiscordGateway({
      token: new Secret(BOT_TOKEN),
      applicationId: fake.applicationId,
      apiUrl: fake.apiUrl,
      log: createLogger('silent'),
    });
    await gateway.start(core);
  });
  afterAll(async () => {
    await gateway?.stop();
    await fake?.stop();
  });

  it('a DM from a member of exactly one of them is served as that guild', async () => {
    core.answer = () => ({ private: { text: 'ok' } });
    const { token } = fake.command(onlyB, { channelId: fake.dmChannelOf(onlyB.id) }, ['whoami']);
    const e = await core.next(1);
    expect(e).toMatchObject({
      identity: { workspaceId: guildB.id, workspaceName: 'Beta' },
      target: { isDirect: true, workspaceId: guildB.id },
    });
    await fake.waitForCall((c) => c.method === 'PATCH' && c.path.includes(token));
  });

  it('a DM from a member of both is not guessed: they are told to talk in the server whose tools they want', async () => {
    const { token } = fake.command(both, { channelId: fake.dmChannelOf(both.id) }, ['whoami']);
    const edit = await fake.waitForCall((c) => c.method === 'PATCH' && c.path.includes(token));
    expect((edit.body as { content: string }).content).toMatch(/several servers \((Alpha, Beta|Beta, Alpha)\)/);
    expect(core.events).toHaveLength(1);
  });
});
