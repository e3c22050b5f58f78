import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatPlatform } from '../../src/chat/platform.js';
import type { ChatInbound, OutMessage, ReplyTarget } from '../../src/chat/types.js';
import { shellIdentity } from '../../src/platforms/shell/index.js';
import { startTestApp, type TestApp } from '../support/app.js';

/** A platform as the composition root sees it, recording what the app did with it. */
class RecordingPlatform implements ChatPlatform {
  readonly name = 'shell' as const;
  readonly said: string[] = [];
  core: ChatInbound | undefined;
  stopped = false;
  readonly outbound = {
    reply: async (_t: ReplyTarget, m: OutMessage) => (this.said.push(m.text), {}),
    replyPrivately: async (_t: ReplyTarget, m: OutMessage) => void this.said.push(m.text),
    direct: async (_w: string, _u: string, m: OutMessage) => void this.said.push(m.text),
    openSecretForm: async () => {},
    update: async (_t: ReplyTarget, _id: string, m: OutMessage) => void this.said.push(m.text),
  };
  async start(core: ChatInbound) {
    this.core = core;
  }
  async stop() {
    this.stopped = true;
  }
}

describe('a chat platform behind the ChatPlatform seam', () => {
  const platform = new RecordingPlatform();
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({}, 'serve', { platforms: [platform] });
  }, 30_000);
  afterAll(() => t?.stop());

  it('is started with the chat core, and what the bot says to its users goes through its outbound', async () => {
    expect(platform.core).toBe(t.app.chat);
    expect(t.app.platforms).toContain(platform);
    const { identity, target } = shellIdentity('ada');
    const ack = await platform.core!.handle({ kind: 'command', identity, target, text: 'whoami', eventId: 'seam-1' });
    expect(ack?.private?.text).toContain('You are ada');
    await t.app.outbound.reply(target, { text: 'hello through the seam' });
    expect(platform.said).toEqual(['hello through the seam']);
  });

  it('is stopped when the app stops', async () => {
    await t.stop();
    expect(platform.stopped).toBe(true);
  });
});
