/** How a provider's vendor account is identified after a connect. */
export type IdentityStyle = 'userinfo' | 'slack' | 'none';
/** How a grant is revoked at disconnect. */
export type RevokeStyle = 'rfc7009' | 'github' | 'slack' | 'none';

/** Endpoints and quirks of a well-known vendor. */
export interface Preset {
  displayName: string;
  authorizeUrl: string;
  tokenUrl: string;
  revokeUrl?: string;
  userinfoUrl?: string;
  /** Scopes requested when the admin names none. */
  scopes: string[];
  /** Query parameter carrying the scopes. Default `scope`; Slack user tokens use `user_scope`. */
  scopeParam?: string;
  /** Separator between scopes. Default a space. */
  scopeSeparator?: string;
  /** Extra authorize parameters (offline access, audience …). */
  authorizeParams?: Record<string, string>;
  identity: IdentityStyle;
  revoke: RevokeStyle;
}

/** The presets an admin can name in `admin provider add <slug> <preset> …`. */
export const presets: Record<string, Preset> = {
  github: {
    displayName: 'GitHub',
    authorizeUrl: 'https://github.com/login/oauth/authorize',
    tokenUrl: 'https://github.com/login/oauth/access_token',
    userinfoUrl: 'https://api.github.com/user',
    // GitHub has no RFC 7009 endpoint: DELETE /applications/{client_id}/grant with basic auth.
    revokeUrl: 'https://api.github.com/applications/{client_id}/grant',
    scopes: ['read:user'],
    identity: 'userinfo',
    revoke: 'github',
  },
  google: {
    displayName: 'Google',
    authorizeUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
    tokenUrl: 'https://oauth2.googleapis.com/token',
    revokeUrl: 'https://oauth2.googleapis.com/revoke',
    userinfoUrl: 'https://openidconnect.googleapis.com/v1/userinfo',
    scopes: ['openid', 'email', 'profile'],
    authorizeParams: { access_type: 'offline', prompt: 'consent' },
    identity: 'userinfo',
    revoke: 'rfc7009',
  },
  slack: {
    displayName: 'Slack',
    authorizeUrl: 'https://slack.com/oauth/v2/authorize',
    tokenUrl: 'https://slack.com/api/oauth.v2.access',
    revokeUrl: 'https://slack.com/api/auth.revoke',
    scopes: ['users:read'],
    scopeParam: 'user_scope',
    scopeSeparator: ',',
    identity: 'slack',
    revoke: 'slack',
  },
  atlassian: {
    displayName: 'Atlassian',
    authorizeUrl: 'https://auth.atlassian.com/authorize',
    tokenUrl: 'https://auth.atlassian.com/oauth/token',
    userinfoUrl: 'https://api.atlassian.com/me',
    scopes: ['read:me', 'offline_access'],
    authorizeParams: { audience: 'api.atlassian.com', prompt: 'consent' },
    identity: 'userinfo',
    revoke: 'none',
  },
  microsoft: {
    displayName: 'Microsoft',
    authorizeUrl: 'https://login.microsoftonline.com/common/oauth2/v2.0/authorize',
    tokenUrl: 'https://login.microsoftonline.com/common/oauth2/v2.0/token',
    userinfoUrl: 'https://graph.microsoft.com/oidc/userinfo',
    scopes: ['openid', 'profile', 'email', 'offline_access'],
    identity: 'userinfo',
    revoke: 'none',
  },
  gitlab: {
    displayName: 'GitLab',
    authorizeUrl: 'https://gitlab.com/oauth/authorize',
    tokenUrl: 'https://gitlab.com/oauth/token',
    revokeUrl: 'https://gitlab.com/oauth/revoke',
    userinfoUrl: 'https://gitlab.com/api/v4/user',
    scopes: ['read_user'],
    identity: 'userinfo',
    revoke: 'rfc7009',
  },
};

/** Quirks of a provider row by its kind: a preset's, or the standard ones for `oidc`, `oauth2` and `mcp`. */
export function quirksOf(
  kind: string,
): Pick<Preset, 'scopeParam' | 'scopeSeparator' | 'authorizeParams' | 'identity' | 'revoke'> {
  const p = presets[kind];
  if (p) return p;
  return { identity: 'userinfo', revoke: 'rfc7009' };
}
