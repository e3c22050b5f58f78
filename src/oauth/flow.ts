import type { z } from 'zod';
import { redirectUriOf } from './authorize.js';
import { ConsentStep, START_PURPOSE, type startClaims } from './consent.js';
import { defaults, type OAuthDeps } from './deps.js';
import { GrantStep } from './grant.js';
import type { CallbackOutcome, CallbackParams, ConsentPage, ContinueOutcome } from './pages.js';
import type { ProviderStore } from './providers.js';
import { ChatSignInStep } from './signin.js';
import { FlowStates } from './states.js';
import type { ConnectionStore } from './store.js';
import type { TokenClient } from './tokenclient.js';

/**
 * The authorization-code + PKCE flow: signed start links, the consent page and Continue, server-side
 * state, and the callback of each leg (the chat sign-in where configured, then the provider).
 */
export class ConnectFlow {
  readonly #ttl: number;
  readonly #states: FlowStates;
  readonly #consent: ConsentStep;
  readonly #signIn: ChatSignInStep;
  readonly #grant: GrantStep;

  constructor(
    private readonly d: OAuthDeps,
    providers: ProviderStore,
    conns: ConnectionStore,
    client: TokenClient,
  ) {
    this.#ttl = d.options?.flowTtlSeconds ?? defaults.flowTtlSeconds;
    this.#states = new FlowStates(d);
    this.#consent = new ConsentStep(d, providers, conns, this.#states);
    this.#signIn = new ChatSignInStep(d, this.#states);
    this.#grant = new GrantStep(d, conns, client, this.#states);
  }

  /** `GET /oauth/start`: the consent page; spends nothing. */
  page(t: string): Promise<ConsentPage> {
    return this.#consent.page(t);
  }

  /** `POST /oauth/start` (Continue). */
  continue(t: string, csrf: string | undefined, browser: string | undefined): Promise<ContinueOutcome> {
    return this.#consent.continue(t, csrf, browser);
  }

  /** `PUBLIC_URL + /oauth/callback`, exactly. */
  redirectUri(): string {
    return redirectUriOf(this.d.publicUrl);
  }

  /** A single-use signed start link for this user and provider, valid 10 minutes (`service`: the grant is for that service identity). */
  async connectLink(
    orgId: string,
    userId: string,
    providerSlug: string,
    opts: { resumeCallId?: string | undefined; extraScopes?: string[] | undefined; service?: string | undefined } = {},
  ): Promise<string> {
    const claims: z.infer<typeof startClaims> = { o: orgId, u: userId, p: providerSlug };
    if (opts.resumeCallId) claims.r = opts.resumeCallId;
    if (opts.extraScopes?.length) claims.s = opts.extraScopes;
    if (opts.service) claims.sv = opts.service;
    const t = await this.d.links.sign(START_PURPOSE, claims, this.#ttl);
    return `${this.d.publicUrl}/oauth/start?t=${t}`;
  }

  /** The call to resume named by the user's latest completed connect at this provider, if any. */
  lastResumeCallId(orgId: string, userId: string, providerId: string): Promise<string | undefined> {
    return this.#states.lastResumeCallId(orgId, userId, providerId);
  }

  /**
   * Checks the browser cookie, consumes the state atomically, and then either verifies the chat
   * sign-in (and goes on to the provider) or exchanges the code and stores the grant.
   */
  async callback(q: CallbackParams, browser: string | undefined): Promise<CallbackOutcome> {
    const row = await this.#states.claim(q.state, browser);
    if ('kind' in row) return row;
    if (row.phase.startsWith('signin:')) return this.#signIn.finish(row, q, row.phase.slice('signin:'.length));
    return this.#grant.finish(row, q);
  }
}
