import type { Problem, TeamProblem } from '../../db/schema/shapes.js';
import { inputIssueText } from './input.js';
import { mcpAuthText, urlRefusalText } from './net.js';

/** Why a team secret could not be chosen, as the caller reads it. */
export const teamText = (t: TeamProblem): string => {
  switch (t.code) {
    case 'not_member':
      return `this channel belongs to ${t.team === undefined ? 'another team' : `team ${t.team}`}, and you are not a member of it`;
    case 'no_team':
      return 'you are in no team, so a team secret cannot be chosen';
    case 'several_teams':
      return `you are in several teams (${t.teams.join(', ')}) and this channel is bound to none; ask an admin to bind it with /onbehalf admin team channel <team>`;
  }
};

const notPlain = {
  control: 'holds control or invisible characters',
  percent: 'holds percent-encoded characters',
  dot_segment: 'has a "." or ".." path segment',
} as const;
/** A refused server address: `server: why`; a row stored before refusals were coded holds its phrase. */
function refusedUrl(p: Extract<Problem, { code: 'refused_url' }>): string {
  if (!p.refusal) return p.reason ?? 'the address was refused';
  return `${p.server ? `${p.server}: ` : ''}${urlRefusalText(p.refusal)}`;
}

const jsonType = (t: string) => (t === 'null' ? 'null' : t === 'array' || t === 'object' ? `an ${t}` : `a ${t}`);

/** Why a call did not run or finish, as the caller reads it (one clause, no final full stop). */
export function problemText(p: Problem): string {
  switch (p.code) {
    case 'text':
      return p.text;
    case 'server_removed':
      return 'that server was removed';
    case 'internal':
      return 'an internal error stopped the call';
    case 'gave_up':
      return 'the call could not be completed; try again';
    case 'too_slow':
      return 'the call did not finish in time';
    case 'unknown_server':
      return `there is no server named ${p.server}`;
    case 'queue_cap':
      return `you already have ${p.max} calls waiting to run; wait for them to finish, then try again`;
    case 'unknown_tool':
      return `${p.server} has no tool named ${p.tool}`;
    case 'refused_url':
      return `${refusedUrl(p)}, which is not allowed${p.setting ? ' (ONBEHALF_ALLOW_PRIVATE_URLS)' : ''}`;
    case 'protocol':
      return `${p.server} refused the call (${p.message})`;
    case 'credentials_rejected':
      return `${p.server} rejected the credentials configured for it (${p.kinds.join(', ') || 'none'}); an admin must fix them`;
    case 'park_cap':
      return `you already have ${p.max} calls waiting for an account to be connected; connect ${p.provider} (\`/onbehalf connect ${p.provider}\`) or let the waiting calls finish, then run it again`;
    case 'scope_step_up_limit':
      return `${p.server} still asks for more permissions${p.scopes.length ? ` (${p.scopes.join(' ')})` : ''} after you were asked ${p.rounds} time(s) to grant more; it was not run again. An admin should check what ${p.server} requires`;
    case 'user_gone':
      return 'the user no longer exists';
    case 'connect_timeout':
      return `it waited ${p.minutes} minute(s) for you to connect your account; run it again once you are connected`;
    case 'approval_expired':
      return `the person did not approve it within ${p.minutes} minute(s)`;
    case 'approval_denied':
      return 'the person chose Deny when asked to approve it';
    case 'assistant_never':
      return 'an admin does not let the assistant call this tool; the person can run it with /onbehalf run';
    default:
      return credentialText(p) ?? ruleText(p as RuleProblem);
  }
}

type RuleProblem = Extract<
  Problem,
  {
    code:
      | 'proto_key'
      | 'look_alike'
      | 'not_string'
      | 'not_plain'
      | 'missing_arg'
      | 'deny_rule'
      | 'no_allow_rule'
      | 'requires';
  }
>;

function credentialText(p: Problem): string | undefined {
  switch (p.code) {
    case 'binding_invalid':
      return `the binding of ${p.binding} on ${p.server} is invalid (${p.issue ? inputIssueText(p.issue) : p.error})`;
    case 'header_unsafe':
      return `the value bound to header ${p.header} on ${p.server} (from ${p.source}) holds a line break, control or non-Latin-1 character, so nothing was sent; an admin must check that source`;
    case 'secret_missing':
      if (p.scope === 'org') return `the org secret ${p.name} that ${p.server} needs is not set`;
      if (p.scope === 'user')
        return `you have no user secret ${p.name}, which ${p.server} needs; ask an admin to set it`;
      return `team ${p.team ?? ''} has no secret ${p.name}, which ${p.server} needs`;
    case 'secret_moved':
      return `the ${p.scope} secret ${p.name} that ${p.server} needs does not open (it was moved or altered in the database); an admin must set it again`;
    case 'secret_keys':
      return `the ${p.scope} secret ${p.name} that ${p.server} needs cannot be opened with the configured sealing keys; an operator must check ONBEHALF_KEYS`;
    case 'team':
      return `${p.server} needs team secret ${p.name}, but ${teamText(p.team)}`;
    case 'mcp_oauth_unsupported':
      return `${p.server} uses mcp_oauth, which this installation does not support yet`;
    case 'mcp_not_protected':
      return `${p.server}: the server does not ask for a token, so its mcp_oauth binding should be removed`;
    case 'mcp_auth_failed':
      return mcpAuthText(p);
    case 'unknown_provider':
      return `there is no provider ${p.provider} in this org`;
    default:
      return mintedText(p);
  }
}

/** Why a machine or exchanged token could not be had (one clause; never a fallback to another credential). */
function mintedText(p: Problem): string | undefined {
  const said = (q: { error: string; description?: string | undefined }) =>
    `${q.error}${q.description ? `: ${q.description}` : ''}`;
  switch (p.code) {
    case 'minted_unsupported':
      return `${p.server} is bound to ${p.source}, which works only for http servers`;
    case 'machine_other_server':
      return `${p.server} is bound to client_credentials:${p.named}, another server's machine identity, so nothing was sent; an admin must bind client_credentials:${p.server}`;
    case 'machine_client_missing':
      return `${p.server} needs the org's machine credentials, which are not set; an admin sets them with /onbehalf admin server auth ${p.server} --client-id <id> [--private-key]`;
    case 'machine_token_refused':
      return `the authorization server of ${p.server} refused the org's machine credentials (${said(p)}); an admin must check them`;
    case 'exchange_denied':
      return p.by === 'idp'
        ? `${p.provider} refused to exchange your sign-in for a token for ${p.server} (${said(p)}), so nothing was sent to ${p.server}`
        : `the authorization server of ${p.server} refused the assertion ${p.provider} issued for you (${said(p)}), so nothing was sent to ${p.server}`;
    case 'exchange_no_id_token':
      return `${p.server} takes only an identity assertion from ${p.provider}, but your ${p.provider} grant holds no ID token; an admin must make ${p.provider} an OIDC provider (with the openid scope), then you reconnect it`;
    case 'provider_unreachable':
      return `${p.provider} could not be reached to refresh your token`;
    case 'token_store':
      return `unexpected answer from the token store for ${p.provider}`;
    case 'service_grant_missing':
      return `the org's ${p.provider} service connection "${p.name}" is not connected yet; an admin connects it with /onbehalf admin connect ${p.provider} --service ${p.name}`;
    case 'service_grant_dead':
      return `the org's ${p.provider} service connection needs an admin to reconnect`;
    default:
      return undefined;
  }
}

function ruleText(p: RuleProblem): string {
  switch (p.code) {
    case 'proto_key':
      return 'an argument is named __proto__, which is never passed on; rename it';
    case 'look_alike':
      return `the argument "${p.arg}" looks like "${p.name}", which rule ${p.rule} checks or sets; use the exact name ${p.name}`;
    case 'not_string':
      return `${p.name} must be a string, not ${jsonType(p.got)} (rule ${p.rule} checks it)`;
    case 'not_plain':
      return `${p.name} ${notPlain[p.why]}, which rule ${p.rule} cannot judge; send a plain value`;
    case 'missing_arg':
      return `rule ${p.rule} checks ${p.name}, which is missing; give ${p.name} as a string`;
    case 'deny_rule':
      return `denied by rule: ${p.rule}`;
    case 'no_allow_rule':
      return `no allow rule of ${p.server} lets you use ${p.tool}`;
    case 'requires':
      return `rule ${p.rule} requires ${p.name} must match ${p.glob}`;
  }
}
