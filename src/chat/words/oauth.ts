import type {
  ServiceGrantResult,
  ServiceGrantView,
  ConnectionChange,
  ConnectionRefusal,
  ConnectionResult,
  DiscoveryFailure,
  ProviderChange,
  ProviderRefusal,
  ProviderResult,
} from '../../oauth/index.js';
import type { CatalogGap } from '../../agent/index.js';
import { urlRefusalText } from './net.js';

const PRIVATE_HINT = '; the operator can allow private addresses with ONBEHALF_ALLOW_PRIVATE_URLS=true';

/** What an admin change of a provider did, in one line. */
export function providerChangeText(c: ProviderChange): string {
  switch (c.kind) {
    case 'provider_added':
      return `Provider ${c.provider.slug} (${c.provider.displayName}) added. Redirect URI: ${c.redirectUri}${missingEndpoints(c.provider)}`;
    case 'client_secret_saved':
      return `Client secret of ${c.slug} saved (sealed).`;
    case 'private_key_saved':
      return `Private key of ${c.slug} saved (sealed); it signs client assertions with ${c.alg} and is never sent.`;
    case 'public_client':
      return `${c.slug} is now a public client (no secret).`;
    case 'provider_removed':
      return `Provider ${c.slug} removed, with every connection to it.`;
    case 'provider_changed':
      return `Provider ${c.slug} changed; its connections stay.`;
    case 'mcp_client_set':
      return `${c.server} will use this client id instead of registering one (provider ${c.slug}); any earlier registration and its connections are gone.`;
    case 'sharing_set':
      return c.shared
        ? `${c.slug}: one vendor account may now be connected for several people (a shared or service account).`
        : `${c.slug}: each vendor account may be connected for one person only.`;
  }
}

function discoveryText(f: DiscoveryFailure): string {
  switch (f.cause) {
    case 'status':
      return `OpenID discovery at ${f.host} answered ${f.status}.`;
    case 'no_endpoints':
      return 'The OpenID configuration is missing its endpoints.';
    case 'fetch':
      return `OpenID discovery failed: ${f.detail}`;
    case 'other_issuer':
      return 'The OpenID configuration names a different issuer.';
  }
}

const missing = {
  client_id: 'A client id is required.',
  oauth2_endpoints: 'An oauth2 provider needs --authorize URL and --token URL.',
  oidc_issuer: 'An oidc provider needs --issuer URL.',
} as const;

/** Why an admin change of a provider was refused, in one line. */
export function providerRefusalText(e: ProviderRefusal): string {
  switch (e.kind) {
    case 'bad_slug':
      return 'The slug must be 1-40 lowercase letters, digits, - or _.';
    case 'missing_endpoint':
      return missing[e.need];
    case 'exists':
      return `A provider "${e.slug}" already exists; remove it first.`;
    case 'bad_url':
      return `${e.option ?? 'A discovered endpoint'} ${urlRefusalText(e.refusal)}${e.refusal.code === 'private' ? PRIVATE_HINT : ''}.`;
    case 'unknown_preset':
      return `Unknown provider kind "${e.given}". Use one of: ${e.known.join(', ')}.`;
    case 'discovery_failed':
      return discoveryText(e);
    case 'no_pkce': {
      const listed = e.listed.length
        ? `lists only ${e.listed.join(', ')}`
        : 'does not list code_challenge_methods_supported';
      return (
        `The issuer's OpenID configuration ${listed}, so PKCE S256 is not guaranteed; ` +
        'use an issuer that supports S256.'
      );
    }
    case 'not_found':
      return `There is no provider "${e.slug}".`;
    case 'bad_private_key':
      return 'That is not a private key onbehalf can sign with (a PEM or JWK private key: EC P-256/384/521, RSA or Ed25519); nothing was stored.';
  }
}

/** What a person's change of their own connection did, in one line. */
export function connectionChangeText(c: ConnectionChange): string {
  switch (c.kind) {
    case 'disconnected': {
      const who = c.vendorLogin ? ` (${c.vendorLogin})` : '';
      return c.revoked
        ? `Disconnected ${c.slug}${who}: revoked at the provider and deleted here.`
        : `Disconnected ${c.slug}${who}: deleted here; the provider did not confirm revocation, ` +
            `so you may also remove the app in your ${c.displayName} settings.`;
    }
    case 'confirmed':
      return `Confirmed: ${c.slug} ${c.vendorLogin ?? 'account'} is yours and now in use.`;
  }
}

/** Why a person's change of their own connection was refused, in one line. */
export function connectionRefusalText(e: ConnectionRefusal): string {
  switch (e.kind) {
    case 'not_found':
      return `There is no provider "${e.slug}".`;
    case 'no_connection':
      return `You have no ${e.slug} connection.`;
    case 'nothing_held':
      return `You have no ${e.slug} connection waiting for confirmation.`;
  }
}

/** An admin change of a provider in words. */
export function providerText(r: ProviderResult): string {
  return r.ok ? providerChangeText(r.value) : providerRefusalText(r.error);
}

/** A person's change of their own connection in words. */
export function connectionText(r: ConnectionResult): string {
  return r.ok ? connectionChangeText(r.value) : connectionRefusalText(r.error);
}

/** What a provider added without a userinfo or revocation endpoint cannot do, and the flag that fixes it. */
function missingEndpoints(p: { namesAccount: boolean; revokes: boolean }): string {
  const lacks = [
    ...(p.namesAccount ? [] : ['no --userinfo URL, so a connect cannot name the vendor account']),
    ...(p.revokes ? [] : ['no --revoke URL, so disconnect forgets the grant but cannot revoke it at the vendor']),
  ];
  return lacks.length ? `\nNote: ${lacks.join('; ')}. Remove and add it again with them if the vendor has them.` : '';
}

/** One server of `tools` the caller cannot list yet: connect, grant more (403 insufficient_scope), or why it stopped asking. */
export function gapLine(g: CatalogGap): string {
  const head = `• \`${g.server}\``;
  if (!g.more)
    return `${head}: connect your ${g.providerSlug} account to see its tools: \`/onbehalf connect ${g.providerSlug}\``;
  const wanted = g.more.scopes.length ? ` (${g.more.scopes.join(' ')})` : '';
  if (!g.more.connectUrl)
    return `${head} still asks for more permissions${wanted} to list its tools after you were asked ${g.more.rounds} time(s) to grant more; onbehalf stopped asking. An admin should check what ${g.server} requires.`;
  return `${head} asks for more permissions${wanted} to list its tools: reconnect your ${g.providerSlug} account to grant them together with what you granted before (only you can use this link): ${g.more.connectUrl}`;
}

/** The one line an admin's service-grant command answers. */
export function serviceGrantText(r: ServiceGrantResult): string {
  if (!r.ok) {
    const e = r.error;
    if (e.kind === 'bad_name')
      return `"${e.name}" is not a service name: use 1–40 lowercase letters, digits and dashes, e.g. ci-bot.`;
    if (e.kind === 'not_found') return `There is no provider "${e.slug}" here (see \`/onbehalf admin provider list\`).`;
    if (e.kind === 'nothing_held')
      return `No ${e.slug} service connection "${e.name}" is waiting for confirmation (see \`/onbehalf admin services\`).`;
    return `There is no ${e.slug} service connection "${e.name}" (see \`/onbehalf admin services\`).`;
  }
  const v = r.value;
  if (v.kind === 'service_confirmed')
    return `Confirmed: ${v.slug} account ${v.vendorLogin ?? '(unknown login)'} is now the org's ${v.slug} service connection "${v.name}", used by servers bound to service:${v.slug}/${v.name}.`;
  if (v.kind === 'service_link')
    return `Connect the ${v.slug} account the org's service connection "${v.name}" should act as. The link is yours alone, works once and expires in 10 minutes; everyone the access rules allow on servers bound to service:${v.slug}/${v.name} will act as that account.`;
  const account = v.vendorLogin ? ` (${v.vendorLogin})` : '';
  return `Removed the org's ${v.slug} service connection "${v.name}"${account}${v.revoked ? ' and revoked it at the provider' : '; the provider could not confirm revocation, so revoke it there too'}.`;
}

/** The org's service grants, one line each. */
export function serviceGrantsList(grants: ServiceGrantView[]): string {
  if (!grants.length)
    return 'No service connections yet. Connect one with `/onbehalf admin connect <provider> --service <name>`.';
  const status = (s: ServiceGrantView['status']) =>
    s === 'active' ? 'working' : s === 'held' ? 'on hold until an admin confirms it' : 'needs an admin to reconnect';
  return [
    'Service connections (bind them with source service:<provider>/<name>):',
    ...grants.map(
      (g) =>
        `• service:${g.providerSlug}/${g.name} as ${g.vendorLogin ?? '(unknown login)'}: ${status(g.status)}; scopes: ${g.scopes.join(' ') || '-'}`,
    ),
  ].join('\n');
}
