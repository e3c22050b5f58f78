import type { Hono } from 'hono';
import type { Redis } from 'ioredis';
import type { AuditLog } from '../audit/index.js';
import type { Config } from '../config.js';
import type { Keyring } from '../crypto/index.js';
import type { Store } from '../db/index.js';
import { CodedError } from '../errors.js';
import type { Identity } from '../identity/index.js';
import type { Logger } from '../log.js';
import type { Ack, ChatInbound, ChatOutbound, Inbound, ReplyTarget } from './types.js';

/** What the web server sets on every request it hands a router (its id, a logger carrying it). */
export type RouteEnv = { Variables: { requestId: string; log: Logger } };

/** A router a platform asks the web server to mount at `path` (Slack: `/slack`). */
export interface PlatformRoute {
  path: string;
  router: Hono<RouteEnv>;
}

/**
 * One chat platform, as the composition root sees it (like the MCP SDK's `Transport` or bolt's
 * `Receiver`): `slack/`, `discord/` and `shell/` under `platforms/` each implement it once, and
 * nothing outside its folder knows its SDK.
 */
export interface ChatPlatform {
  /** The platform a `ReplyTarget` names; its `outbound` is registered under it. */
  readonly name: ReplyTarget['platform'];
  /** Sends through the platform's Web API / REST only, so it works from any process (a worker too). */
  readonly outbound: ChatOutbound;
  /** Routers the web server mounts (HTTP events, install flows). Default none. */
  readonly routes?: PlatformRoute[];
  /** Starts receiving (a gateway login, a socket, a terminal); every inbound event goes to `core`. */
  start(core: ChatInbound): Promise<void>;
  /** Stops receiving; safe to call when never started. */
  stop(): Promise<void>;
}

/** What every platform is built from; each takes what it needs. */
export interface PlatformContext {
  config: Config;
  store: Store;
  keyring: Keyring;
  identity: Identity;
  audit: AuditLog;
  log: Logger;
  /** True in a process that receives from chat (`serve`); false where only `outbound` is used (`worker`). */
  receive: boolean;
  /**
   * The Redis every process of a deployment shares: what must happen once across `serve` replicas
   * (one Discord gateway session, one run of a redelivered Slack event) is decided there.
   */
  redis: Redis;
}

/** Builds one platform from Config; undefined when Config does not turn it on. */
export type PlatformFactory = (ctx: PlatformContext) => ChatPlatform | undefined;

/** A platform of a process that only sends (a worker): its outbound, nothing to start. */
export function senderOnly(name: ReplyTarget['platform'], outbound: ChatOutbound): ChatPlatform {
  return { name, outbound, start: async () => {}, stop: async () => {} };
}

/** An inbound event reached a platform before `start(core)` gave it the chat core. */
export class PlatformNotStartedError extends CodedError {
  readonly code = 'platform_not_started';
  constructor(platform: string) {
    super(`the ${platform} platform is not started yet; retry in a moment`);
  }
}

/** The chat core a platform's listeners call, bound when `start(core)` runs (listeners are wired at build). */
export class CoreSlot implements ChatInbound {
  #core: ChatInbound | undefined;
  constructor(private readonly platform: string) {}

  bind(core: ChatInbound): void {
    this.#core = core;
  }

  async handle(event: Inbound): Promise<Ack> {
    if (!this.#core) throw new PlatformNotStartedError(this.platform);
    return this.#core.handle(event);
  }
}
