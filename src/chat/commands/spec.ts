import type { ChatIdentity, Org, User } from '../../identity/index.js';
import type { ChatServices } from '../services.js';
import type { OutMessage, ReplyTarget, SecretForm } from '../types.js';

/** Everything a command handler knows about who asked, where, and what it may call. */
export interface CommandContext {
  org: Org;
  user: User;
  identity: ChatIdentity;
  target: ReplyTarget;
  requestId: string;
  eventId?: string;
  services: ChatServices;
}

/** What a command answers: a message only the caller sees, and/or a secret form to open. */
export type CommandReply = { private?: OutMessage; form?: SecretForm };

/** One command of `/onbehalf`: its words, usage line, and handler. */
export interface CommandSpec {
  /** e.g. `connect`, or `provider` under admin. */
  word: string;
  usage: string;
  summary: string;
  run(ctx: CommandContext, args: string[], rawArgs: string): Promise<CommandReply>;
}

/** A private one-line answer. */
export const say = (text: string): CommandReply => ({ private: { text } });
