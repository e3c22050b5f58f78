import type { ConnectionResult } from '../oauth/index.js';
import type { ConnectReason } from '../policy/index.js';
import { looksLikeSecret } from './parse.js';
import { connectionText } from './words/oauth.js';
import type { OutMessage } from './types.js';

/** The prompt only the caller sees when a call is parked for their grant. */
export function connectPrompt(
  server: string,
  tool: string,
  providerSlug: string,
  reason: ConnectReason,
  url: string,
): OutMessage {
  const why = {
    missing: `needs your ${providerSlug} account, which you have not connected yet`,
    needs_reauth: `needs your ${providerSlug} account, and your connection has expired or was revoked`,
    insufficient_scope: `needs more ${providerSlug} permissions than you granted`,
  }[reason];
  return {
    text: `\`${server}.${tool}\` ${why}. Connect it with the link below (only you can see this; it works once, for 10 minutes). The call continues by itself once you are connected.`,
    link: { label: reason === 'missing' ? `Connect ${providerSlug}` : `Reconnect ${providerSlug}`, url },
  };
}

/** Longest argument value shown in an approval prompt. */
const SHOWN_VALUE = 200;

/** One argument value for the prompt: secret-looking values hidden, long ones cut. */
function shownValue(v: unknown): string {
  const s = typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v));
  if (looksLikeSecret(s)) return '[hidden: looks like a secret]';
  const one = s.replace(/\s+/g, ' ');
  return one.length > SHOWN_VALUE ? `${one.slice(0, SHOWN_VALUE)}… (${one.length - SHOWN_VALUE} more characters)` : one;
}

/** Whose account a held call would act as, in words (kinds and vendor accounts; never a value). */
function accountWords(req: { credentialKinds: string[]; vendorAccounts: string[]; grants: string[] }): string {
  const parts: string[] = [];
  if (req.grants.length)
    parts.push(
      `your ${req.grants.join(', ')} account${req.vendorAccounts.length ? ` (${req.vendorAccounts.join(', ')})` : ''}`,
    );
  const shared = req.credentialKinds.filter((k) => k !== 'oauth' && k !== 'mcp_oauth' && k !== 'static');
  if (shared.length) parts.push(`the ${[...new Set(shared)].join(', ').replace(/_/g, ' ')} an admin configured`);
  return parts.length ? parts.join(' and ') : 'no credentials (the server is open)';
}

/**
 * The prompt only the caller sees when the assistant wants to run a tool that changes things:
 * what, with which arguments, as whom, and Approve / Deny (also typed: `approve <id>`).
 */
export function approvalPrompt(
  server: string,
  tool: string,
  callId: string,
  req: {
    args: Record<string, unknown>;
    credentialKinds: string[];
    vendorAccounts: string[];
    grants: string[];
    expiresAt: number;
  },
): OutMessage {
  const entries = Object.entries(req.args);
  const args = entries.length
    ? entries
        .slice(0, 20)
        .map(([k, v]) => `  • ${k}: ${shownValue(v)}`)
        .join('\n') + (entries.length > 20 ? `\n  • … ${entries.length - 20} more` : '')
    : '  (no arguments)';
  const minutes = Math.max(1, Math.round((req.expiresAt - Date.now()) / 60_000));
  return {
    text: [
      `The assistant wants to run \`${server}.${tool}\` as you (only you can see this). It may change things, so it waits for you.`,
      `Arguments:\n${args}`,
      `It will use ${accountWords(req)}.`,
      `Approve or deny within ${minutes} minute(s), or it is cancelled. Typed: \`/onbehalf approve ${callId}\` or \`/onbehalf deny ${callId}\`.`,
    ].join('\n'),
    actions: [
      { id: 'command', value: `approve ${callId}`, label: 'Approve', style: 'primary' },
      { id: 'command', value: `deny ${callId}`, label: 'Deny', style: 'danger' },
    ],
  };
}

/** "GitHub @bob is now connected for Alice in Acme", with how to undo it. */
export function connectedMessage(
  providerSlug: string,
  vendorLogin: string | null,
  userName: string,
  orgName: string,
): OutMessage {
  return {
    text: `${providerSlug} account ${vendorLogin ?? '(unknown login)'} is now connected for ${userName} in ${orgName}. Calls you make will use it. Not you, or a mistake? \`/onbehalf disconnect ${providerSlug}\` undoes it.`,
  };
}

/** "vendor bob was connected to you — Yes, that's me / No, disconnect": a held grant waits for its user. */
export function heldMessage(
  providerSlug: string,
  vendorLogin: string | null,
  userName: string,
  orgName: string,
): OutMessage {
  return {
    text:
      `${providerSlug} account ${vendorLogin ?? '(unknown login)'} was connected to you (${userName} in ${orgName}) from a browser onbehalf could not check. ` +
      `It is not used until you confirm it is yours; calls waiting for ${providerSlug} continue once you do. If you did not just connect it, answer No: someone else opened your link.`,
    actions: [
      { id: 'command', label: "Yes, that's me", value: `connect confirm ${providerSlug}`, style: 'primary' },
      { id: 'command', label: 'No, disconnect', value: `connect reject ${providerSlug}`, style: 'danger' },
    ],
  };
}

/** To the link's owner: the vendor account they tried to attach is someone else's. */
export function refusedForLinkOwner(providerSlug: string, vendorLogin: string | null, ownerName: string): OutMessage {
  return {
    text: `A connect of ${providerSlug} account ${vendorLogin ?? '(unknown login)'} to you was refused: that account is already connected for ${ownerName}. Nothing was stored. Connect your own ${providerSlug} account with \`/onbehalf connect ${providerSlug}\`.`,
  };
}

/** To the vendor account's owner: someone's link tried to attach their account to another person. */
export function refusedForAccountOwner(
  providerSlug: string,
  vendorLogin: string | null,
  linkOwnerName: string,
): OutMessage {
  return {
    text: `Someone opened a connect link of ${linkOwnerName} and approved it with your ${providerSlug} account ${vendorLogin ?? ''}. It was refused and nothing was stored; your connection is unchanged. If you did this, someone sent you their link: do not open links others send you.`,
  };
}

/** To the link's owner: their link was opened by someone signed in to chat as another person. */
export function signInMismatchMessage(providerSlug: string, platform: string, signedInAs: string): OutMessage {
  return {
    text: `Your ${providerSlug} connect link was opened by someone signed in to ${platform === 'slack' ? 'Slack' : 'Discord'} as @${signedInAs}. It was refused and nothing was stored. Do not share connect links; ask for a new one with \`/onbehalf connect ${providerSlug}\`.`,
  };
}

/** To a grant's owner: the provider refused the scheduled refresh of an idle grant; the next call asks to reconnect. */
export function expiredMessage(providerSlug: string, vendorLogin: string | null): OutMessage {
  const account = vendorLogin ? ` (${vendorLogin})` : '';
  return {
    text: `Your ${providerSlug} connection${account} has expired: ${providerSlug} no longer accepts it after a time unused. Your next tool call that needs it will ask you to reconnect; or reconnect now with \`/onbehalf connect ${providerSlug}\`.`,
  };
}

/** "From your browser: Disconnected vendor (@bob): revoked at the provider …": told in chat after Disconnect on the web page. */
export function browserDisconnectMessage(r: ConnectionResult): OutMessage {
  return { text: `From your browser: ${connectionText(r)}` };
}

/** To the admin who connected it: which vendor account the org's service grant acts as, and who uses it. */
export function serviceConnectedMessage(providerSlug: string, name: string, vendorLogin: string | null): OutMessage {
  return {
    text: `${providerSlug} account ${vendorLogin ?? '(unknown login)'} is now the org's ${providerSlug} service connection "${name}". Servers bound to service:${providerSlug}/${name} use it for everyone their access rules allow. Not the account you meant? \`/onbehalf admin disconnect ${providerSlug} --service ${name}\` removes it.`,
  };
}

/** To the admin whose service connect arrived from a browser not shown to be theirs: unused until they confirm. */
export function serviceHeldMessage(providerSlug: string, name: string, vendorLogin: string | null): OutMessage {
  const cmd = `${providerSlug} --service ${name}`;
  return {
    text: `${providerSlug} account ${vendorLogin ?? '(unknown login)'} was connected as the org's ${providerSlug} service connection "${name}" from a browser that was not shown to be yours, so it is on hold: nobody's calls use it until you confirm. Is it the account you meant? \`/onbehalf admin connect confirm ${cmd}\` puts it to use; \`/onbehalf admin connect reject ${cmd}\` revokes and removes it.`,
  };
}

/** To each admin: a service grant died (refresh refused or revoked) and calls using it fail until it is reconnected. */
export function serviceDeadMessage(providerSlug: string, name: string, vendorLogin: string | null): OutMessage {
  const account = vendorLogin ? ` (${vendorLogin})` : '';
  return {
    text: `The org's ${providerSlug} service connection "${name}"${account} stopped working: ${providerSlug} refused to renew it or it was revoked. Calls of servers bound to service:${providerSlug}/${name} fail until an admin reconnects it with \`/onbehalf admin connect ${providerSlug} --service ${name}\`.`,
  };
}
