import type { Logger } from '../log.js';

/** A grant became usable: new, reconnected, or a held one confirmed. Ids and names only, never a token. */
export interface GrantArrived {
  orgId: string;
  userId: string;
  providerId: string;
  providerSlug: string;
  connectionId: string;
  vendorLogin: string | null;
  /** The call named by the connect link, if any: it resumes with the others. */
  resumeCallId?: string | undefined;
}

/** A grant for a vendor account new to the user, from an unproven browser: unusable until the user confirms in chat. */
export type GrantHeld = GrantArrived;

/** A connect was refused because the vendor account is already connected for `ownerUserId`; nothing stored. */
export interface GrantRefused {
  orgId: string;
  userId: string;
  providerId: string;
  providerSlug: string;
  vendorLogin: string | null;
  ownerUserId: string;
}

/** The browser signed in to the chat platform as someone other than the link's user; nothing stored. */
export interface SignInMismatch {
  orgId: string;
  userId: string;
  providerId: string;
  providerSlug: string;
  platform: string;
  signedInAs: string;
}

/** A grant died at a scheduled keep-alive refresh (now `needs_reauth`): its owner is told before a call fails. */
export type GrantExpired = Omit<GrantArrived, 'resumeCallId'>;

/** A service grant (the org's, owned by service identity `serviceName`) arrived or died. Ids and names only. */
export interface ServiceGrantEvent {
  orgId: string;
  /** The service identity's user id (the grant's owner). */
  userId: string;
  serviceName: string;
  providerId: string;
  providerSlug: string;
  connectionId: string;
  vendorLogin: string | null;
  /** The admin who completed the connect (arrival only). */
  adminUserId?: string | undefined;
  /** Arrived from a browser not shown to be the admin's: unused until the admin confirms it in chat. */
  held?: boolean;
}

/**
 * What the OAuth engine tells the rest of the product, each awaited where it happens (the callback
 * page answers after): the composition root supplies them (chat announces, the runner resumes).
 */
export interface ConnectionHooks {
  /** Tell the user where their calls wait, then resume those calls. */
  grantArrived(e: GrantArrived): Promise<void>;
  /** Ask the user, privately, whether the held grant is theirs. */
  grantHeld(e: GrantHeld): Promise<void>;
  /** Tell both people that the vendor account already serving one of them was refused for the other. */
  grantRefused(e: GrantRefused): Promise<void>;
  /** Tell the link's owner that someone else's chat sign-in opened their link. */
  signInMismatch(e: SignInMismatch): Promise<void>;
  /** Tell the grant's owner, privately, that it expired while idle and must be reconnected. */
  grantExpired(e: GrantExpired): Promise<void>;
  /** Tell the admin who connected it, privately, which vendor account the org's service grant acts as. */
  serviceGrantArrived(e: ServiceGrantEvent): Promise<void>;
  /** Tell the org's admins, privately, that a service grant died and needs an admin to reconnect it. */
  serviceGrantDead(e: ServiceGrantEvent): Promise<void>;
}

/**
 * The hooks the OAuth engine is built with, filled in later (the runner and chat are built after
 * the engine they depend on). Each hook runs every added set in order, awaited.
 */
export class ConnectionHookSet implements ConnectionHooks {
  readonly #sets: Partial<ConnectionHooks>[] = [];

  /** Adds a set of hooks, run after those added before. */
  add(hooks: Partial<ConnectionHooks>): void {
    this.#sets.push(hooks);
  }

  async grantArrived(e: GrantArrived): Promise<void> {
    for (const h of this.#sets) await h.grantArrived?.(e);
  }
  async grantHeld(e: GrantHeld): Promise<void> {
    for (const h of this.#sets) await h.grantHeld?.(e);
  }
  async grantRefused(e: GrantRefused): Promise<void> {
    for (const h of this.#sets) await h.grantRefused?.(e);
  }
  async signInMismatch(e: SignInMismatch): Promise<void> {
    for (const h of this.#sets) await h.signInMismatch?.(e);
  }
  async grantExpired(e: GrantExpired): Promise<void> {
    for (const h of this.#sets) await h.grantExpired?.(e);
  }
  async serviceGrantArrived(e: ServiceGrantEvent): Promise<void> {
    for (const h of this.#sets) await h.serviceGrantArrived?.(e);
  }
  async serviceGrantDead(e: ServiceGrantEvent): Promise<void> {
    for (const h of this.#sets) await h.serviceGrantDead?.(e);
  }
}

/** Runs one hook, awaited. A failure is logged, not thrown: the grant is stored either way and the page must answer. */
export async function runHook<K extends keyof ConnectionHooks>(
  hooks: Partial<ConnectionHooks> | undefined,
  log: Logger,
  name: K,
  e: Parameters<ConnectionHooks[K]>[0],
): Promise<void> {
  const hook = hooks?.[name] as ((e: Parameters<ConnectionHooks[K]>[0]) => Promise<void>) | undefined;
  if (!hook) return;
  try {
    await hook.call(hooks, e);
  } catch (err) {
    log.error({ err: (err as Error).message, hook: name, user: e.userId }, 'a connection hook failed');
  }
}
