import { z } from 'zod';
import { SLUG_PATTERN } from '../names.js';

/** `env:NAME` or `file:PATH`: where a secret is, never the secret itself. */
export const secretRefSchema = z
  .string()
  .regex(
    /^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+)$/,
    'expected a reference env:NAME or file:PATH, never the secret itself',
  );

const serverName = z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, 'expected a server name: 1–40 letters, digits, _ or -');
const teamName = z.string().regex(/^[A-Za-z0-9_.-]{1,40}$/, 'expected a team name: 1–40 letters, digits, . _ or -');
const slug = z
  .string()
  .regex(new RegExp(`^${SLUG_PATTERN}$`), 'expected a provider slug: lower-case letters, digits and -');
const id = z.string().min(1, 'expected a platform user id').max(200);
const glob = z.string().min(1).max(200);
const name = (what: string) => ({ error: `expected ${what}` });

const bindingSchema = z.union([
  z.string().min(1),
  z.strictObject({ source: z.string().min(1), template: z.string().min(1).optional() }),
]);

const serverCommon = {
  name: serverName,
  timeout_ms: z.number().int().min(100).max(600_000).optional(),
  private_results: z.boolean().optional(),
  /** Header (http) or env var (stdio) → credential source, or `{ source, template }`. */
  bindings: z.record(z.string().min(1), bindingSchema).optional(),
};

/** One MCP server of an org: http (a URL) or stdio (a command the worker runs). */
export const serverSchema = z.discriminatedUnion(
  'transport',
  [
    z.strictObject({ ...serverCommon, transport: z.literal('http'), url: z.string().url('expected an http(s) URL') }),
    z.strictObject({
      ...serverCommon,
      transport: z.literal('stdio'),
      command: z.string().min(1, 'expected the command to run'),
      args: z.array(z.string()).optional(),
    }),
  ],
  name('transport: http or stdio'),
);

/** One OAuth provider: a preset (`github`, …), `oidc` (with `issuer`) or `oauth2` (with endpoints). */
export const providerSchema = z.strictObject({
  slug,
  preset: z.string().min(1, 'expected a preset name, oidc or oauth2'),
  client_id: z.string().min(1).max(512),
  client_secret: secretRefSchema.optional(),
  scopes: z.array(z.string().min(1)).optional(),
  issuer: z.string().url().optional(),
  authorize_url: z.string().url().optional(),
  token_url: z.string().url().optional(),
  revoke_url: z.string().url().optional(),
  userinfo_url: z.string().url().optional(),
  /** One vendor account may be connected for several people. */
  share: z.boolean().optional(),
});

/** One access rule: `allow: <server>` or `deny: <server>` and whom it covers. */
export const ruleSchema = z
  .strictObject({
    allow: serverName.optional(),
    deny: serverName.optional(),
    tools: glob.default('*'),
    roles: z.array(z.enum(['admin', 'member'], name('admin or member'))).optional(),
    users: z.array(id).optional(),
    teams: z.array(teamName).optional(),
    args: z.record(z.string(), glob).optional(),
    inject: z.record(z.string(), z.string()).optional(),
    ignore_case: z.boolean().optional(),
  })
  .refine(
    (r) => (r.allow === undefined) !== (r.deny === undefined),
    'expected exactly one of allow: <server> or deny: <server>',
  );

/** Whether the model's calls of a server's tools ask first, always run, or never run. */
export const approvalSchema = z.strictObject({
  server: serverName,
  tools: glob,
  mode: z.enum(['ask', 'always', 'never'], name('ask, always or never')),
});

export const teamSchema = z.strictObject({
  name: teamName,
  /** Platform user ids of this workspace. */
  members: z.array(id).optional(),
});

/** One org, found by its platform and workspace (team id, guild id, or `local` for the shell). */
export const orgSchema = z.strictObject({
  platform: z.enum(['slack', 'discord', 'shell'], name('slack, discord or shell')),
  workspace: z.string().min(1, 'expected a team id, guild id, or local for the shell'),
  admins: z.array(id).optional(),
  teams: z.array(teamSchema).optional(),
  providers: z.array(providerSchema).optional(),
  servers: z.array(serverSchema).optional(),
  rules: z.array(ruleSchema).optional(),
  approvals: z.array(approvalSchema).optional(),
});

/** The whole file. */
export const fileSchema = z.strictObject({ orgs: z.array(orgSchema) });

export type OrgDecl = z.infer<typeof orgSchema>;
export type ServerDecl = z.infer<typeof serverSchema>;
export type ProviderDecl = z.infer<typeof providerSchema>;
export type RuleDecl = z.infer<typeof ruleSchema>;
export type ApprovalDecl = z.infer<typeof approvalSchema>;
export type TeamDecl = z.infer<typeof teamSchema>;
export type FileDecl = z.infer<typeof fileSchema>;
