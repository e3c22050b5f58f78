import type { PolicyChange, PolicyRefusal, PolicyResult, SecretTeamRefusal } from '../../policy/index.js';
import { inputIssueText } from './input.js';
import { urlRefusalText } from './net.js';

const approvalWhat = {
  ask: 'ask you before each call the model makes',
  always: 'run without asking',
  never: 'are never offered to the model (a typed run still works, under the access rules)',
} as const;

const injecting = (inject: Record<string, string>) => {
  const pairs = Object.entries(inject).map(([k, v]) => `${k}=${v}`);
  return pairs.length ? `, injecting ${pairs.join(', ')}` : '';
};

/** The changes only a config file makes (chat words them when they are refused or logged). */
function configChangeText(c: Extract<PolicyChange, { kind: 'server_changed' | 'unbound' | 'approval_removed' }>) {
  if (c.kind === 'server_changed') return `Changed ${c.transport} server ${c.name}.`;
  if (c.kind === 'unbound') return `${c.server}: ${c.target} ${c.name} is no longer bound.`;
  return `${c.server} tools matching ${c.glob} no longer have an approval rule of their own.`;
}

/** What an admin change of policy did, in one line (or a short list). */
export function policyChangeText(c: PolicyChange): string {
  switch (c.kind) {
    case 'server_added':
      return `Added ${c.transport} server ${c.name}. Bind its credentials with /onbehalf admin bind ${c.name} …`;
    case 'server_removed':
      return `Removed server ${c.name} with its bindings and rules.`;
    case 'server_updated':
      return c.privateResults
        ? `${c.name}: a result obtained with someone's own account now goes to them only; the conversation gets a one-line note.`
        : `${c.name}: results now go to the conversation where they were asked for.`;
    case 'server_changed':
    case 'unbound':
    case 'approval_removed':
      return configChangeText(c);
    case 'bound':
      return (
        `${c.server}: ${c.target} ${c.name} now comes from ${c.source ?? 'a static value'}` +
        `${c.template ? ` as "${c.template}"` : ''}.`
      );
    case 'rule_added':
      return `Added rule: ${c.rule}${injecting(c.inject)}.`;
    case 'approval_set':
      return `${c.server} tools matching ${c.glob} now ${approvalWhat[c.mode]}.`;
    case 'approval_rules':
      return c.rules.length
        ? [
            `Approval rules of ${c.server} (the most specific glob wins):`,
            ...c.rules.map((r) => `• ${r.tools}: ${r.mode}`),
          ].join('\n')
        : `${c.server} has no approval rules: the model's calls of read-only tools run, every other call asks first.`;
    case 'secret_stored':
      return `Stored ${c.scope} secret ${c.name}. Its value is sealed and will not be shown again.`;
    case 'secret_deleted':
      return `Deleted ${c.scope} secret ${c.name}.`;
    case 'teams':
      return c.teams.length
        ? [
            'Teams:',
            ...c.teams.map(
              (t) =>
                `• ${t.name}: ${t.members} member(s)${t.channels.length ? `, channels ${t.channels.join(', ')}` : ''}`,
            ),
          ].join('\n')
        : 'No teams yet.';
    case 'team_created':
      return `Created team ${c.team}.`;
    case 'team_channel_bound':
      return `This channel now belongs to team ${c.team}: team secrets here come from ${c.team}.`;
    case 'team_member_added':
      return `${c.user} is now in team ${c.team}.`;
    case 'team_member_removed':
      return `${c.user} left team ${c.team}.`;
    case 'team_deleted':
      return (
        `Deleted team ${c.team} with its members and channels${c.secrets ? ` and ${c.secrets} team secret(s)` : ''}.` +
        (c.rules ? ` ${c.rules} access rule(s) still name it and now match no one through it.` : '')
      );
  }
}

const notAdded = { server: 'Server not added', binding: 'Not bound', rule: 'Rule not added' } as const;

/** Why an admin change of policy was refused, in one line. */
export function policyRefusalText(e: PolicyRefusal): string {
  switch (e.kind) {
    case 'invalid':
      return `${notAdded[e.what]}: ${inputIssueText(e.issue)}.`;
    case 'stdio_not_allowed':
      return (
        'Server not added: a stdio server runs a program on the worker host, so it can be added from chat only ' +
        'when the operator sets ONBEHALF_ALLOW_STDIO=true.'
      );
    case 'url_refused':
      return e.refusal.code === 'private'
        ? `Server not added: ${urlRefusalText(e.refusal)}; the operator can allow private addresses with ONBEHALF_ALLOW_PRIVATE_URLS=true.`
        : `Server not added: the URL ${urlRefusalText(e.refusal)}.`;
    case 'server_exists':
      return `Server not added: there is already a server named ${e.name}.`;
    case 'unknown_server':
      return `There is no server named ${e.name}.`;
    case 'wrong_bind_target':
      return e.transport === 'stdio'
        ? `${e.server} is a stdio server: bind env variables, not headers.`
        : `${e.server} is an http server: bind headers, not env variables.`;
    case 'mcp_oauth_needs_http':
      return 'Not bound: mcp_oauth works only for http servers (the MCP authorization spec is HTTP).';
    case 'proto_argument':
      return 'Rule not added: an argument may not be named __proto__.';
    case 'rule_unknown_user':
      return `Rule not added: no user ${e.user} in this org.`;
    case 'rule_unknown_team':
      return `Rule not added: there is no team ${e.team}.`;
    case 'deny_injects':
      return 'Rule not added: only allow rules inject arguments.';
    case 'bad_tool_glob':
      return 'The tool glob is tool-name characters with * and ?, e.g. delete_* or *.';
    case 'bad_approval_mode':
      return `The mode must be ask, always or never (got "${e.mode}").`;
    default:
      return secretOrTeamRefusalText(e);
  }
}

function secretOrTeamRefusalText(e: SecretTeamRefusal): string {
  switch (e.kind) {
    case 'unknown_team':
      return `There is no team ${e.name}.`;
    case 'unknown_user':
      return 'No such user in this org.';
    case 'bad_secret_name':
      return SECRET_NAME_RULE;
    case 'no_secret':
      return `There is no ${e.scope} secret ${e.name}.`;
    case 'which_team':
      return 'Which team?';
    case 'bad_team_name':
      return 'A team name is 1–40 letters, digits, dots, dashes or underscores.';
    case 'team_exists':
      return `There is already a team ${e.name}.`;
    case 'which_channel':
      return 'Which channel? Run the command in the channel to bind.';
    case 'which_user':
      return 'Which user?';
    case 'not_team_member':
      return `${e.user} is not in team ${e.team}.`;
  }
}

/** The rule a secret name follows (the admin's command checks it before a form opens, too). */
export const SECRET_NAME_RULE = 'The secret name must be 1–64 letters, digits, dots, dashes or underscores.';

/** An admin change of policy in words: what it did, or why it was refused. */
export function policyText(r: PolicyResult): string {
  return r.ok ? policyChangeText(r.value) : policyRefusalText(r.error);
}
