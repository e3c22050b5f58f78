import type { FlowProblem } from '../oauth/index.js';

type Words = {
  [K in FlowProblem['kind']]: (p: Extract<FlowProblem, { kind: K }>) => [title: string, sentence: string];
};

/** How the token endpoint answered a failed code exchange, in words. */
function exchangeText(o: Extract<FlowProblem, { kind: 'exchange_failed' }>['outcome']): string {
  if (o.kind === 'rejected' && o.error === 'unreadable_response') return `unreadable token response (${o.status})`;
  if (o.kind !== 'transient') return o.error;
  return o.cause === 'status' ? `the provider answered ${o.status}` : `network: ${o.detail}`;
}

const again = 'Ask again with `/onbehalf connect <provider>`.';
const platformName = (platform: string) => (platform === 'slack' ? 'Slack' : 'Discord');
const verifierMismatch = (): [string, string] => [
  'Sign-in could not be completed',
  'This sign-in does not match what was stored for it. Start again with `/onbehalf connect`.',
];

/** The title and sentence of each way a connect page stops (every kind must be worded). */
const words: Words = {
  link_expired: () => ['This link has expired', `Connect links work for 10 minutes. ${again}`],
  link_invalid: () => ['This link is not valid', 'The link was changed or is not one of ours.'],
  link_used: () => ['This link was already used', `Each connect link works once. ${again}`],
  link_provider_gone: () => ['Unknown provider', 'The provider of this link no longer exists.'],
  pkce_unsupported: () => [
    'Provider not supported',
    'This authorization server does not support PKCE S256, so onbehalf will not use it.',
  ],
  authorize_url_refused: () => [
    'Provider not supported',
    'Its sign-in address is not a public https address; an admin must fix the provider.',
  ],
  not_from_consent_page: () => [
    'Continue from the connect page',
    'This request did not come from the connect page. Open the connect link again and press Continue.',
  ],
  signin_unreachable: (p) => [
    'Sign-in unavailable',
    `${platformName(p.platform)} sign-in could not be reached. Try the connect link again in a minute.`,
  ],
  state_missing: () => ['Missing state', 'This address is missing its state, so it cannot be matched to a sign-in.'],
  state_unknown: () => ['Unknown sign-in', 'This sign-in is not one we started (or it was cleaned up).'],
  other_browser: () => [
    'Finish in the same browser',
    'This sign-in was started in another browser (or its cookie is gone). ' +
      'Open the connect link again in the browser you finish it in.',
  ],
  state_used: () => ['Sign-in already used', 'This sign-in was already completed or abandoned; each works once.'],
  state_expired: () => ['Sign-in expired', 'This sign-in took longer than 10 minutes.'],
  state_provider_gone: () => ['Unknown provider', 'The provider of this sign-in no longer exists.'],
  wrong_issuer: () => [
    'Wrong authorization server',
    'The answer came from a different authorization server than the one this sign-in started with.',
  ],
  declined: (p) => ['Not connected', `You declined access at ${p.provider}.`],
  provider_error: (p) => [
    'Not connected',
    `${p.provider} reported "${p.code}"${p.description ? `: ${p.description.slice(0, 200)}` : ''}.`,
  ],
  code_missing: () => ['Missing code', 'The provider sent no authorization code.'],
  verifier_mismatch: verifierMismatch,
  exchange_failed: (p) => ['Not connected', `${p.provider} did not accept the sign-in (${exchangeText(p.outcome)}).`],
  vendor_account_taken: (p) => [
    'Already connected for someone else',
    `${p.provider} ${p.login ?? 'account'} is already connected for ${p.ownerName ?? 'another person'}` +
      `${p.org !== null ? ` in ${p.org}` : ''}, so it cannot also be connected for ${p.userName}. ` +
      `If this was not your own link, someone may have forwarded theirs; both of you were told in chat.`,
  ],
  signin_incomplete: (p) => [
    'Not signed in',
    `${platformName(p.platform)} sign-in was not completed${p.error ? ` (${p.error})` : ''}.`,
  ],
  signin_unconfirmed: (p) => [
    'Not signed in',
    `${platformName(p.platform)} did not confirm who you are (${p.reason}).`,
  ],
  signin_mismatch: (p) => [
    'This link is not yours',
    `This link belongs to ${p.owner === null ? 'someone else' : `@${p.owner}`}; you are signed in as @${p.signedIn}. ` +
      `Ask for your own link with \`/onbehalf connect ${p.providerSlug}\`.`,
  ],
};

/** The title and sentence of a connect page that stopped; every such page ends "Nothing was changed." */
export function flowText(p: FlowProblem): { title: string; message: string } {
  const [title, sentence] = (words[p.kind] as (p: FlowProblem) => [string, string])(p);
  return { title, message: `${sentence} Nothing was changed.` };
}
