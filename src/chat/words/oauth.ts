import type {
  ConnectionChange,
  ConnectionRefusal,
  ConnectionResult,
  DiscoveryFailure,
  ProviderChange,
  ProviderRefusal,
  ProviderResult,
} from '../../oauth/index.js';
import { urlRefusalText } from './net.js';

const PRIVATE_HINT = '; the operator can allow private addresses with ONBEHALF_ALLOW_PRIVATE_URLS=true';

/** What an admin change of a provider did, in one line. */
export function providerChangeText(c: ProviderChange): string {
  switch (c.kind) {
    case 'provider_added':
      return `Provider ${c.provider.slug} (${c.provider.displayName}) added. Redirect URI: ${c.redirectUri}${missingEndpoints(c.provider)}`;
    case 'client_secret_saved':
      return `Client secret of ${c.slug} saved (sealed).`;
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
