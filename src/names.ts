import type { InputIssueCode } from './policy/input.js';
import { z } from 'zod';

/**
 * The names people type for things, each defined once: a slug names an OAuth provider in
 * `oauth:<provider>`, `/onbehalf connect <provider>` and the provider tables; a secret name names
 * an org, team or user secret in `org_secret:<name>`, `admin secret …` and the secret forms.
 */

/** The slug pattern without anchors, to embed in a larger pattern (a form id). */
export const SLUG_PATTERN = '[a-z0-9][a-z0-9_-]{0,39}';
/** A provider slug: a lowercase letter or digit, then up to 39 lowercase letters, digits, `-` or `_`. */
export const slugSchema = z.string().regex(new RegExp(`^${SLUG_PATTERN}$`));
/** Whether `s` is a valid slug. */
export const isSlug = (s: string): boolean => slugSchema.safeParse(s).success;

/** The secret-name pattern without anchors, to embed in a larger pattern (a form id). */
export const SECRET_NAME_PATTERN = '[A-Za-z0-9_.-]{1,64}';
/** A secret name: 1–64 letters, digits, dots, dashes or underscores. */
export const secretNameSchema = z.string().regex(new RegExp(`^${SECRET_NAME_PATTERN}$`));
/** Whether `s` is a valid secret name. */
export const isSecretName = (s: string): boolean => secretNameSchema.safeParse(s).success;

/** An MCP server name: 1–40 letters, digits, dashes or underscores. */
export const serverNameSchema = z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, 'server_name' satisfies InputIssueCode);

/** A team name: 1–40 letters, digits, dots, dashes or underscores. */
export const teamNameSchema = z.string().regex(/^[A-Za-z0-9_.-]{1,40}$/);
/** Whether `s` is a valid team name. */
export const isTeamName = (s: string): boolean => teamNameSchema.safeParse(s).success;

/** A service identity's name (`service:<provider>/<name>`): a lowercase letter or digit, then up to 39 lowercase letters, digits or `-`. */
export const serviceNameSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/);
/** Whether `s` is a valid service identity name. */
export const isServiceName = (s: string): boolean => serviceNameSchema.safeParse(s).success;
