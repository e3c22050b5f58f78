import type {
  ChatOutbound,
  OutMessage,
  ReplyTarget,
  SecretForm,
  Suggestions,
  ThreadMessage,
  TurnRenderer,
} from './types.js';

/** Sends each message through the platform its target names. */
export class OutboundRouter {
  readonly #byPlatform = new Map<string, ChatOutbound>();

  /** Registers the sender of one platform (`slack`, `discord`, `shell`). */
  register(platform: ReplyTarget['platform'], outbound: ChatOutbound): void {
    this.#byPlatform.set(platform, outbound);
  }

  has(platform: string): boolean {
    return this.#byPlatform.has(platform);
  }

  #for(platform: string): ChatOutbound {
    const o = this.#byPlatform.get(platform);
    if (!o) throw new Error(`no chat outbound registered for platform "${platform}"`);
    return o;
  }

  reply(target: ReplyTarget, msg: OutMessage) {
    return this.#for(target.platform).reply(target, msg);
  }
  replyPrivately(target: ReplyTarget, msg: OutMessage) {
    return this.#for(target.platform).replyPrivately(target, msg);
  }
  /** A direct message on a named platform (the router's own form of `direct`). */
  directOn(platform: ReplyTarget['platform'], workspaceId: string, platformUserId: string, msg: OutMessage) {
    return this.#for(platform).direct(workspaceId, platformUserId, msg);
  }
  openSecretForm(target: ReplyTarget, form: SecretForm, triggerId?: string) {
    return this.#for(target.platform).openSecretForm(target, form, triggerId);
  }
  /** A message to be edited later, where the platform can post one; its id, or undefined. */
  async placeholder(target: ReplyTarget, msg: OutMessage): Promise<string | undefined> {
    const o = this.#for(target.platform);
    return o.placeholder ? (await o.placeholder(target, msg)).messageId : undefined;
  }
  update(target: ReplyTarget, messageId: string, msg: OutMessage) {
    return this.#for(target.platform).update(target, messageId, msg);
  }
  /** The thread's recent messages, where the platform can read them; else none. */
  async threadMessages(target: ReplyTarget, limit: number): Promise<ThreadMessage[]> {
    const o = this.#byPlatform.get(target.platform);
    return o?.threadMessages ? o.threadMessages(target, limit) : [];
  }
  /** Offers an assistant thread its prompts, where the platform can. */
  async suggest(target: ReplyTarget, s: Suggestions): Promise<void> {
    await this.#for(target.platform).suggest?.(target, s);
  }
  /** Whether the platform titles threads of direct conversations (Slack's assistant threads). */
  titlesThreads(target: ReplyTarget): boolean {
    return Boolean(this.#byPlatform.get(target.platform)?.titleThread) && target.isDirect && Boolean(target.threadId);
  }
  /** Titles such a thread, where the platform can. */
  async titleThread(target: ReplyTarget, title: string): Promise<void> {
    await this.#for(target.platform).titleThread?.(target, title);
  }
  /** The platform's renderer of an agent turn as it happens, where it has one. */
  turn(target: ReplyTarget): TurnRenderer | undefined {
    return this.#for(target.platform).turn?.(target);
  }
}
