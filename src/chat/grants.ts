import type { ConnectionHooks, GrantArrived } from '../oauth/index.js';
import type { Runner } from '../runner/index.js';
import type { ConnectionAnnouncer } from './announcer.js';

/**
 * "A grant arrived", as one use case: the OAuth callback (or a confirmation in chat) has stored the
 * grant; the user is told so where their calls wait for it, then the runner queues those calls
 * again. Awaited by the callback; a failure to resume reaches the caller (the hook runner logs it).
 */
export async function grantArrived(
  d: { announcer: ConnectionAnnouncer; runner: Pick<Runner, 'resumeParked'> },
  e: GrantArrived,
): Promise<void> {
  // First the confirmation, then the calls' own results: people read them in that order.
  await d.announcer.connected(e);
  await d.runner.resumeParked(e);
}

/** The connection hooks of a running product: chat speaks, the runner resumes. */
export function connectionHooks(d: {
  announcer: ConnectionAnnouncer;
  runner: Pick<Runner, 'resumeParked'>;
}): ConnectionHooks {
  return {
    grantArrived: (e) => grantArrived(d, e),
    grantHeld: (e) => d.announcer.held(e),
    grantRefused: (e) => d.announcer.refused(e),
    signInMismatch: (e) => d.announcer.signInMismatch(e),
  };
}
