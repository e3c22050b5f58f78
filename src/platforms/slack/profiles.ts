import { z } from 'zod';
import { isExternalMember, type ChatIdentity, type Identity } from '../../identity/index.js';
import type { Logger } from '../../log.js';

/** Calls one Slack Web API method with a workspace's bot token. */
export type SlackCall = (teamId: string, method: string, args: Record<string, unknown>) => Promise<unknown>;

const slackUser = z.object({
  id: z.string(),
  name: z.string().optional(),
  real_name: z.string().optional(),
  profile: z
    .object({
      display_name: z.string().optional(),
      real_name: z.string().optional(),
      email: z.string().optional(),
    })
    .optional(),
});
const usersInfo = z.object({ user: slackUser });
const teamInfo = z.object({ team: z.object({ name: z.string() }) });
const userChange = z.object({ team_id: z.string().optional(), event: z.object({ user: slackUser }) });
const teamRename = z.object({ team_id: z.string(), event: z.object({ name: z.string() }) });

type Person = { displayName?: string; email?: string };
type Cached<T> = { at: number; value: T | undefined };

/** Most people (and workspaces) whose names are held in memory; the oldest answer goes first. */
const CACHE_ENTRIES = 5000;

/** The name people see in Slack: the display name, else the full name, else the handle. */
function personOf(u: z.infer<typeof slackUser>): Person {
  const displayName = u.profile?.display_name || u.profile?.real_name || u.real_name || u.name || undefined;
  return { displayName, email: u.profile?.email || undefined };
}

function remember<T>(cache: Map<string, Cached<T>>, key: string, value: T | undefined): void {
  cache.delete(key);
  cache.set(key, { at: Date.now(), value });
  if (cache.size > CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
}

export interface SlackProfilesOptions {
  /** How long a users.info / team.info answer is used before asking again. Default 10 minutes. */
  cacheMs?: number;
  /** How long a lookup may hold up an event before it goes on without names. Default 1500 ms. */
  timeoutMs?: number;
}

/**
 * Names a person recognises: the workspace's name from `team.info`, the person's display (or
 * real) name and email from `users.info`, filled into each inbound identity (cached), and
 * stored at once when Slack reports a change (`user_change`, `team_rename`).
 */
export class SlackProfiles {
  readonly #people = new Map<string, Cached<Person>>();
  readonly #teams = new Map<string, Cached<string>>();
  readonly #cacheMs: number;
  readonly #timeoutMs: number;

  constructor(
    private readonly call: SlackCall,
    private readonly identity: Identity,
    private readonly log: Logger,
    o: SlackProfilesOptions = {},
  ) {
    this.#cacheMs = o.cacheMs ?? 10 * 60_000;
    this.#timeoutMs = o.timeoutMs ?? 1500;
  }

  /** `chat` with the names Slack gives; as it was when Slack does not answer in time. Never throws. */
  async fill(chat: ChatIdentity): Promise<ChatIdentity> {
    if (isExternalMember(chat)) return chat;
    const key = `${chat.workspaceId}:${chat.userId}`;
    const [person, team] = await Promise.all([
      this.#fresh(this.#people, key, async () =>
        personOf(usersInfo.parse(await this.#ask(chat, 'users.info', { user: chat.userId })).user),
      ),
      this.#fresh(
        this.#teams,
        chat.workspaceId,
        async () => teamInfo.parse(await this.#ask(chat, 'team.info', {})).team.name,
      ),
    ]);
    return {
      ...chat,
      ...(person?.displayName ? { displayName: person.displayName } : {}),
      ...(person?.email ? { email: person.email } : {}),
      ...(team ? { workspaceName: team } : {}),
    };
  }

  /** `user_change`: the person's new name or address, stored now. */
  async userChanged(body: unknown): Promise<void> {
    const p = userChange.safeParse(body);
    if (!p.success || !p.data.team_id) return;
    const person = personOf(p.data.event.user);
    remember(this.#people, `${p.data.team_id}:${p.data.event.user.id}`, person);
    await this.identity.rename({
      platform: 'slack',
      workspaceId: p.data.team_id,
      userId: p.data.event.user.id,
      ...person,
    });
  }

  /** `team_rename`: the workspace's (and so its org's) new name, stored now. */
  async teamRenamed(body: unknown): Promise<void> {
    const p = teamRename.safeParse(body);
    if (!p.success) return;
    remember(this.#teams, p.data.team_id, p.data.event.name);
    await this.identity.renameWorkspace('slack', p.data.team_id, p.data.event.name);
  }

  #ask(chat: ChatIdentity, method: string, args: Record<string, unknown>): Promise<unknown> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_r, reject) => {
      timer = setTimeout(() => reject(new Error(`${method} did not answer in ${this.#timeoutMs} ms`)), this.#timeoutMs);
    });
    return Promise.race([this.call(chat.workspaceId, method, args), late]).finally(() => clearTimeout(timer));
  }

  /** The cached value when fresh, else a new answer (the stale one, or none, when Slack fails). */
  async #fresh<T>(cache: Map<string, Cached<T>>, key: string, get: () => Promise<T>): Promise<T | undefined> {
    const hit = cache.get(key);
    if (hit && Date.now() - hit.at < this.#cacheMs) return hit.value;
    try {
      const value = await get();
      remember(cache, key, value);
      return value;
    } catch (err) {
      // Not asked again (nor logged) until the answer would have expired: names are not worth a storm.
      this.log.warn({ err: (err as Error).message, key }, 'could not ask Slack for names');
      remember(cache, key, hit?.value);
      return hit?.value;
    }
  }
}
