import type { Secret } from '../crypto/index.js';
import type { ChatIdentity } from '../identity/index.js';
import type { ReplyTarget } from '../identity/reply.js';

export { replyTargetSchema, type ReplyTarget } from '../identity/reply.js';

/**
 * A button that comes back as a `button` inbound from whoever clicks it. `id` is the action the
 * core routes (`command`: `value` is a command line, run as the clicker); `style` colours it.
 */
export interface OutAction {
  id: 'command';
  value: string;
  label: string;
  style?: 'primary' | 'danger';
}

/**
 * A platform-neutral message. Platforms render `link` as a link button and `actions` as buttons
 * (Slack block actions, Discord components, typed commands in the shell).
 */
export interface OutMessage {
  text: string;
  link?: { label: string; url: string };
  actions?: OutAction[];
  /**
   * Offer thumbs up / down on this message (an agent's answer); a click comes back as a `button`
   * inbound with `actionId` `feedback` and `value` `up <turnId>` or `down <turnId>`.
   */
  feedback?: { turnId: string };
}

/** Prompts a person can start from: each `message` is sent as theirs when they pick its `title`. */
export interface Suggestions {
  heading: string;
  prompts: { title: string; message: string }[];
}

/** A tool call's entry in a turn's progress, worded by `chat/`; `id` is stable across its updates. */
export interface TaskEntry {
  id: string;
  title: string;
  state: 'running' | 'done' | 'failed' | 'waiting';
  detail?: string;
  /** The whole entry as one line, where entries are plain text. */
  line: string;
}

/**
 * How a platform shows one agent turn as it happens (Slack: thread status, a streamed message with
 * a task entry per tool call; the shell: progress lines). Calls arrive in order, one at a time;
 * everything is worded already.
 */
export interface TurnRenderer {
  /** What is happening now, in one short line ("Thinking…"). */
  status(text: string): Promise<void>;
  /** A tool call's entry, shown on first sight of its id and updated after. */
  task(entry: TaskEntry): Promise<void>;
  /** The next part of the answer. */
  text(chunk: string): Promise<void>;
  /** The whole answer (also when it was streamed in parts); the last call. */
  finish(msg: OutMessage): Promise<void>;
}

/** One field of a form; every value comes back as a `Secret`, whatever the field. */
export interface FormField {
  id: string;
  label: string;
  /** What it takes, in words ("a whole number from 1 to 10"). Default none. */
  hint?: string;
  /** Filled in when the form opens (a default). Default empty. */
  initial?: string;
  /** Must be filled. Default: only the shell and Discord leave it to the core; Slack requires unless `false`. */
  required?: boolean;
  /** A closed list to pick from (Slack: a select; elsewhere typed). Default free text. */
  options?: { value: string; label: string }[];
  /** Several lines (a PEM key): Slack and Discord show a larger box. Default false. */
  multiline?: boolean;
  /** Not echoed while typed (the shell). Default true: a secret form's values are secrets. */
  hidden?: boolean;
}

/** A secret form: a modal (Slack, Discord) or a hidden prompt (shell). Values come back as `form_submit`. */
export interface SecretForm {
  /** Opaque id the core uses to route the submission, e.g. `secret:org:key`. */
  formId: string;
  title: string;
  fields: FormField[];
  /** One line above the fields. Default: that values are stored sealed and never shown again. */
  note?: string;
  /** The submit button's label. Default `Save`. */
  submit?: string;
}

/**
 * What a verified platform payload says happened. The identity is the platform's, never user input.
 * `eventId`: the platform's id of the delivery (Slack `event_id`, Discord interaction/message id);
 * retries of one event carry the same id and must produce one turn (it becomes the BullMQ jobId).
 */
export type Inbound =
  | { kind: 'message'; identity: ChatIdentity; target: ReplyTarget; text: string; eventId?: string }
  | { kind: 'command'; identity: ChatIdentity; target: ReplyTarget; text: string; triggerId?: string; eventId?: string }
  | { kind: 'button'; identity: ChatIdentity; target: ReplyTarget; actionId: string; value: string; eventId?: string }
  /**
   * The person opened an assistant thread (Slack's AI app surface), or changed what they are looking at
   * beside it (`contextChanged`): the platform may offer prompts to start from (`ChatOutbound.suggest`).
   */
  | { kind: 'thread_started'; identity: ChatIdentity; target: ReplyTarget; contextChanged?: boolean; eventId?: string }
  | {
      kind: 'form_submit';
      identity: ChatIdentity;
      target: ReplyTarget;
      formId: string;
      values: Record<string, Secret>;
      eventId?: string;
    };

/** One message of a thread as the platform reports it (for thread context: never a command or an instruction). */
export interface ThreadMessage {
  /** The platform's message id (Slack `ts`, Discord snowflake). */
  id: string;
  /** The platform user id of its author. */
  userId: string;
  /** The author's display name, as the platform shows it. */
  author: string;
  text: string;
  /** Written by a bot (ours or another). */
  bot: boolean;
}

/** Sends to a platform. Must work from any process through REST / Web API only. */
export interface ChatOutbound {
  /** A message in the conversation (the thread, if any). Returns the new message id if the platform has one. */
  reply(target: ReplyTarget, msg: OutMessage): Promise<{ messageId?: string }>;
  /** A message only the caller (`target.userId`) sees: ephemeral in channels, plain in a DM. */
  replyPrivately(target: ReplyTarget, msg: OutMessage): Promise<void>;
  /** A direct message to a platform user of a workspace. */
  direct(workspaceId: string, platformUserId: string, msg: OutMessage): Promise<void>;
  /** Opens a secret form for the caller (`triggerId`: Slack's / Discord's interaction handle). */
  openSecretForm(target: ReplyTarget, form: SecretForm, triggerId?: string): Promise<void>;
  /**
   * Posts a status message in the conversation meant to be replaced by `update`, with no fallback
   * elsewhere; `messageId` is undefined where none could be posted there. Absent: no placeholders.
   */
  placeholder?(target: ReplyTarget, msg: OutMessage): Promise<{ messageId?: string }>;
  /** Replaces an earlier message (e.g. "waiting for your GitHub connection…" → the result). */
  update(target: ReplyTarget, messageId: string, msg: OutMessage): Promise<void>;
  /**
   * The most recent messages (at most `limit`) of the thread `target.threadId`, oldest first.
   * Absent: the platform has no threads to read.
   */
  threadMessages?(target: ReplyTarget, limit: number): Promise<ThreadMessage[]>;
  /** Offers prompts to start an assistant thread from. Absent: none offered. */
  suggest?(target: ReplyTarget, s: Suggestions): Promise<void>;
  /**
   * Titles a thread of a direct conversation (Slack's assistant threads) from its first message;
   * worded by `chat/`. Absent: the platform's threads have no titles of ours.
   */
  titleThread?(target: ReplyTarget, title: string): Promise<void>;
  /** Shows an agent turn as it happens. Absent: only the answer is posted, with `reply`. */
  turn?(target: ReplyTarget): TurnRenderer;
}

/** Immediate answer to an inbound event, sent in the platform's ack when it has one. */
export type Ack = { private?: OutMessage; form?: SecretForm } | undefined;

/** The chat core, as platforms see it: one call per verified inbound event; returns fast. */
export interface ChatInbound {
  handle(event: Inbound): Promise<Ack>;
}
