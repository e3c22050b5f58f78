// What the `/oauth/*` pages show, as values: `web/` words them (titles and sentences live there).
import type { GrantOutcome } from './tokenclient.js';

/** Why a connect page stops with nothing changed; each kind carries what its sentence names. */
export type FlowProblem =
  /** The start link: expired, changed or not ours, already spent, or its provider or user is gone. */
  | { kind: 'link_expired' }
  | { kind: 'link_invalid' }
  | { kind: 'link_used' }
  | { kind: 'link_provider_gone' }
  /** The provider's authorization server does not list PKCE S256. */
  | { kind: 'pkce_unsupported' }
  /** The provider's sign-in address is not a public https address. */
  | { kind: 'authorize_url_refused' }
  /** Continue without the connect page's CSRF field. */
  | { kind: 'not_from_consent_page' }
  /** The chat platform's sign-in could not be reached (`platform`: `slack`, `discord`). */
  | { kind: 'signin_unreachable'; platform: string }
  /** The callback's state: missing, unknown, from another browser, spent, expired. */
  | { kind: 'state_missing' }
  | { kind: 'state_unknown' }
  | { kind: 'other_browser' }
  | { kind: 'state_used' }
  | { kind: 'state_expired' }
  | { kind: 'state_provider_gone' }
  /** RFC 9207: the answer names another issuer than the one the flow started with. */
  | { kind: 'wrong_issuer' }
  /** The provider's error answer: the person declined, or another error code (and its description). */
  | { kind: 'declined'; provider: string }
  | { kind: 'provider_error'; provider: string; code: string; description: string | undefined }
  | { kind: 'code_missing' }
  /** The stored PKCE verifier does not open for the state's row and owner. */
  | { kind: 'verifier_mismatch' }
  /** The token endpoint refused the code (`reason`: its error or the network failure). */
  /** `outcome`: how the token endpoint answered the code exchange (never a token: it failed). */
  | { kind: 'exchange_failed'; provider: string; outcome: Exclude<GrantOutcome, { kind: 'ok' }> }
  /** The vendor account is already connected for another person of the org (`org`: its name, or null). */
  | {
      kind: 'vendor_account_taken';
      provider: string;
      login: string | null;
      /** null: the owner has no display name (web/ words it). */
      ownerName: string | null;
      org: string | null;
      userName: string;
    }
  /** The chat sign-in: not completed (`error`: the platform's code), not confirmed, or someone else. */
  | { kind: 'signin_incomplete'; platform: string; error: string | undefined }
  | { kind: 'signin_unconfirmed'; platform: string; reason: string }
  | { kind: 'signin_mismatch'; owner: string | null; signedIn: string; providerSlug: string };

/** A page that says what happened and that nothing changed. */
export type FlowError = { kind: 'error'; status: 400 | 403 | 404 | 409 | 502; problem: FlowProblem };

/** A FlowError of `status` for `problem`. */
export const fail = (status: FlowError['status'], problem: FlowProblem): FlowError => ({
  kind: 'error',
  status,
  problem,
});

/** One chat identity of the link's user, as the consent page names it. */
export interface ShownIdentity {
  platform: string;
  workspace: string | null;
  name: string | null;
}

/** What `GET /oauth/start` shows: who and what is being connected, and the Continue form. */
export type ConsentPage =
  | {
      kind: 'consent';
      token: string;
      /** The CSRF field of the Continue form, tied to this link. */
      csrf: string;
      userName: string;
      orgName: string;
      identities: ShownIdentity[];
      provider: string;
      scopes: string[];
      /** A service connect: the org's service identity the account will serve; null: the link's user's own. */
      service: string | null;
      /** Platform whose sign-in comes first (`slack`, `discord`), or null. */
      signIn: string | null;
      /** Origins the Continue form may end up at (the page CSP's `form-action`). */
      formTargets: string[];
    }
  | FlowError;

/** What Continue does: send the browser on (setting the binding cookie), or explain why not. */
export type ContinueOutcome = { kind: 'redirect'; url: string; browser: string } | FlowError;

/** What `/oauth/callback` shows: connected (maybe held), sent on to the provider after chat sign-in, or why not. */
export type CallbackOutcome =
  | {
      kind: 'connected';
      held: boolean;
      provider: string;
      providerSlug: string;
      vendorLogin: string | null;
      userName: string;
      orgName: string;
      /** A service grant: the org's service identity it serves; null: the user's own grant. */
      service: string | null;
    }
  | { kind: 'redirect'; url: string }
  | FlowError;

/** Query of `/oauth/callback` once decoded. */
export interface CallbackParams {
  state?: string | undefined;
  code?: string | undefined;
  error?: string | undefined;
  error_description?: string | undefined;
  iss?: string | undefined;
}
