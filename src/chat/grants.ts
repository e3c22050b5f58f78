import type { ConnectionHooks, GrantArrived } from '../oauth/index.js';
import type { Runner } from '../runner/index.js';
import type { ConnectionAnnouncer } from './announcer.js';

type GrantRunner = Pick<Runner, 'waitingFor' | 'resume'>;

/**
 * "A grant arrived", as one use case: the OAuth callback (or a confirmation in chat) has stored the
 * grant; the runner finds the calls waiting for it, the user is told where they wait, then the
 * runner queues those calls again. Awaited by the callback; a failure to resume is thrown to the
 * hook's caller, which logs it.
 */
export async function grantArrived(
  d: { announcer: ConnectionAnnouncer; runner: GrantRunner },
  e: GrantArrived,
): Promise<void> {
  const waiting = await d.runner.waitingFor(e);
  // First the confirmation, then the calls' own results: people read them in that order.
  await d.announcer.connected(e, waiting);
  await d.runner.resume(e, waiting);
}

/** The connection hooks of a running product: chat speaks, the runner resumes. */
export function connectionHooks(d: { announcer: ConnectionAnnouncer; runner: GrantRunner }): ConnectionHooks {
  return {
    grantArrived: (e) => grantArrived(d, e),
    grantHeld: (e) => d.announcer.held(e),
    grantRefused: (e) => d.announcer.refused(e),
    signInMismatch: (e) => d.announcer.signInMismatch(e),
    grantExpired: (e) => d.announcer.expired(e),
    serviceGrantArrived: (e) => d.announcer.serviceConnected(e),
    serviceGrantDead: (e) => d.announcer.serviceDead(e),
  };
}
