// What the "My connections" pages say: every title and sentence of /me, and the HTML of its list.
import type { MeLinkPage, MeProblem, MeSession, MyConnection } from '../oauth/index.js';
import { esc } from './page.js';

const again = 'Ask for a new one with `/onbehalf connections` in chat.';

/** The title and sentence of each way the page refuses (every kind must be worded). */
const words: { [K in MeProblem['kind']]: [title: string, sentence: string] } = {
  link_expired: ['This link has expired', `Manage links work for 10 minutes. ${again}`],
  link_invalid: ['This link is not valid', 'The link was changed or is not one of ours.'],
  link_used: ['This link was already used', `Each manage link works once. ${again}`],
  not_from_page: [
    'Use the buttons of your page',
    'This request did not come from your connections page (its security field is missing or belongs to another session). Open the page again and use its buttons.',
  ],
  user_gone: ['Unknown user', 'The chat user of this link no longer exists.'],
};

/** The title and sentence of a refused link or form. */
export function meProblemText(p: MeProblem): { title: string; message: string } {
  const [title, message] = words[p.kind];
  return { title, message };
}

export const SESSION_ENDED = {
  title: 'Your session has ended',
  message: `This page shows your connections for 15 minutes after you open your link from chat, in that browser only. ${again}`,
};

export const NO_SUCH_CONNECTION = (slug: string) => ({
  title: 'Not connected',
  message: `You have no ${slug} connection to change. Open your connections page again.`,
});

const code = (s: string) => `<code>${esc(s)}</code>`;
const whose = (userName: string, orgName: string) =>
  `<strong>${esc(userName)}</strong>${orgName ? ` in <strong>${esc(orgName)}</strong>` : ''}`;
const hidden = (name: string, value: string) => `<input type="hidden" name="${name}" value="${esc(value)}">`;

/** The page a manage link opens first: whose connections its button shows (pressing it spends the link). */
export function openBody(v: Extract<MeLinkPage, { kind: 'open' }>): string {
  return (
    `<p>This opens the connected accounts of ${whose(v.userName, v.orgName)}.</p>` +
    `<p>Continue only if you are ${esc(v.userName)} and asked for this link in chat yourself.</p>` +
    `<form method="post" action="/me/open">${hidden('t', v.token)}${hidden('csrf', v.csrf)}` +
    `<button class="primary" type="submit">Show my connections</button></form>` +
    `<p class="note">The link works once and for 10 minutes; the page then stays open for 15 minutes in this browser.</p>`
  );
}

const STATUS: Record<MyConnection['status'], string> = {
  active: 'active',
  held: 'waiting for your confirmation in chat',
  needs_reauth: 'needs reconnecting',
  revoked: 'revoked',
};

/** An epoch-ms time as `2026-12-02 19:33 UTC`. */
const when = (ms: number) => `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

function row(s: MeSession, c: MyConnection): string {
  const form = (action: 'reconnect' | 'disconnect', label: string, cls: string) =>
    `<form method="post" action="/me/${action}">${hidden('csrf', s.csrf)}${hidden('provider', c.providerSlug)}` +
    `<button class="${cls}" type="submit">${label}</button></form>`;
  const provider = c.provider === c.providerSlug ? esc(c.provider) : `${esc(c.provider)} (${code(c.providerSlug)})`;
  return (
    `<tr data-provider="${esc(c.providerSlug)}"><td>${provider}</td><td>${esc(c.vendorLogin ?? 'unknown account')}</td>` +
    `<td>${c.scopes.length ? c.scopes.map(code).join(' ') : 'none'}</td>` +
    `<td class="status-${c.status}">${STATUS[c.status]}</td><td class="when">${when(c.connectedAt)}</td>` +
    `<td class="when">${c.lastUsedAt === null ? 'not yet' : when(c.lastUsedAt)}</td>` +
    `<td class="actions">${form('reconnect', 'Reconnect', '')}${form('disconnect', 'Disconnect', 'danger')}</td></tr>`
  );
}

/** The list of the session user's connections, each with Reconnect and Disconnect. */
export function listBody(s: MeSession, list: MyConnection[]): string {
  const intro = `<p>Connected accounts of ${whose(s.userName, s.orgName)}. This page is yours alone.</p>`;
  if (list.length === 0)
    return `${intro}<p>You have no connected accounts. Use ${code('/onbehalf connect <provider>')} in chat.</p>`;
  return (
    intro +
    `<table><thead><tr><th>Provider</th><th>Account</th><th>Scopes</th><th>Status</th><th>Connected</th><th>Last used</th><th></th></tr></thead>` +
    `<tbody>${list.map((c) => row(s, c)).join('')}</tbody></table>` +
    `<p class="note">Disconnect revokes the grant at the provider and deletes it here; you are told in chat. ` +
    `Reconnect asks the provider again. Last used: your latest tool call that used the account.</p>`
  );
}

/** What Disconnect did, worded as in chat, and the way back. */
export function resultBody(sentence: string): string {
  return `<p>${esc(sentence)}</p><p>You were told in chat too.</p><p><a href="/me">Back to your connections</a></p>`;
}
