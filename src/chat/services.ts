import type { AuditLog } from '../audit/index.js';
import type { Secret } from '../crypto/index.js';
import type { Identity, LinkCodes, OrgJoins, User } from '../identity/index.js';
import type { ConnectionResult, ProviderResult, ServiceGrantResult, ServiceGrantView } from '../oauth/index.js';
import type { DeclaredKind, PolicyResult, ServerListing } from '../policy/index.js';
import type { CatalogGap, CatalogTool } from '../agent/catalog.js';
import type { TurnRequest } from '../agent/index.js';
import type { ApprovalAnswer, ApprovalReply, Elicitations, EnqueueResult, ToolCallRequest } from '../runner/index.js';
import type { OutboundRouter } from './outbound.js';
import type { ThreadTitles } from './thread-titles.js';

/** A server test's outcome in words (`serverTestText` words the catalog's value). */
export type ServerTest = { ok: true; message: string } | { ok: false; error: string };

/** What the chat core needs of the OAuth engine. */
export interface ChatOAuth {
  redirectUri(): string;
  addProvider(
    orgId: string,
    input: {
      slug: string;
      kind: string;
      clientId: string;
      scopes: string[];
      issuer?: string;
      authorizeUrl?: string;
      tokenUrl?: string;
      revokeUrl?: string;
      userinfoUrl?: string;
    },
  ): Promise<ProviderResult>;
  setClientSecret(orgId: string, slug: string, secret: Secret): Promise<ProviderResult>;
  /** A private key (PEM or JWK) the client signs `private_key_jwt` assertions with. */
  setClientKey(orgId: string, slug: string, key: Secret): Promise<ProviderResult>;
  listProviders(orgId: string): Promise<{ slug: string; kind: string; scopes: string[] }[]>;
  removeProvider(orgId: string, slug: string): Promise<ProviderResult>;
  connectLink(
    orgId: string,
    userId: string,
    slug: string,
    opts?: { resumeCallId?: string; extraScopes?: string[] },
  ): Promise<string>;
  listConnections(
    orgId: string,
    userId: string,
  ): Promise<{ providerSlug: string; status: string; vendorLogin: string | null; scopes: string[] }[]>;
  disconnect(orgId: string, userId: string, slug: string): Promise<ConnectionResult>;
  /** The user's private link to their connections page (`PUBLIC_URL/me?t=…`), single use. */
  manageLink(orgId: string, userId: string): Promise<string>;
  confirmHeld(orgId: string, userId: string, slug: string): Promise<ConnectionResult>;
  rejectHeld(orgId: string, userId: string, slug: string): Promise<ConnectionResult>;
  setSharing(orgId: string, slug: string, shared: boolean): Promise<ProviderResult>;
  /** An admin's pre-registered client id for an http MCP server (its secret comes in a form). */
  preRegisterMcpClient(
    orgId: string,
    server: { serverId: string; serverName: string },
    clientId: string,
    opts?: { privateKey?: boolean },
  ): Promise<ProviderResult>;
  /** The org's service grants (admins' `connect|disconnect <provider> --service <name>`, `services`). */
  services: {
    connectLink(orgId: string, adminUserId: string, slug: string, name: string): Promise<ServiceGrantResult>;
    disconnect(orgId: string, adminUserId: string, slug: string, name: string): Promise<ServiceGrantResult>;
    confirmHeld(orgId: string, adminUserId: string, slug: string, name: string): Promise<ServiceGrantResult>;
    rejectHeld(orgId: string, adminUserId: string, slug: string, name: string): Promise<ServiceGrantResult>;
    list(orgId: string): Promise<ServiceGrantView[]>;
  };
}

export type { CatalogTool };

/** What the chat core needs of policy (servers, bindings, rules, secrets, teams). */
export interface ChatPolicy {
  /** The config file that owns an object (chat may not change it), or undefined for one made in chat. */
  ownerOf(orgId: string, kind: DeclaredKind, key: string): Promise<string | undefined>;
  addServer(
    orgId: string,
    input: {
      name: string;
      transport: 'http' | 'stdio';
      url?: string;
      command?: string;
      args?: string[];
      timeoutMs?: number;
    },
  ): Promise<PolicyResult>;
  listServers(orgId: string): Promise<ServerListing[]>;
  server(orgId: string, name: string): Promise<{ id: string; name: string; transport: 'http' | 'stdio' } | undefined>;
  removeServer(orgId: string, name: string): Promise<PolicyResult>;
  setServer(orgId: string, name: string, set: { privateResults: boolean }): Promise<PolicyResult>;
  testServer(orgId: string, name: string, user: User): Promise<ServerTest>;
  bind(
    orgId: string,
    server: string,
    target: 'env' | 'header',
    name: string,
    source: string,
    template?: string,
  ): Promise<PolicyResult>;
  rule(
    orgId: string,
    effect: 'allow' | 'deny',
    server: string,
    input: {
      tools: string;
      roles?: string[];
      users?: string[];
      teams?: string[];
      args?: Record<string, string>;
      inject?: Record<string, string>;
      ignoreCase?: boolean;
    },
  ): Promise<PolicyResult>;
  setSecret(
    orgId: string,
    scope: 'org' | 'team' | 'user',
    owner: string,
    name: string,
    value: Secret,
  ): Promise<PolicyResult>;
  listSecrets(
    orgId: string,
    scope?: 'org' | 'team' | 'user',
  ): Promise<{ scope: string; owner: string; name: string; updatedAt: number }[]>;
  deleteSecret(orgId: string, scope: 'org' | 'team' | 'user', owner: string, name: string): Promise<PolicyResult>;
  team(
    orgId: string,
    action: 'create' | 'add' | 'remove' | 'channel' | 'delete' | 'list',
    name: string | undefined,
    arg?: string,
  ): Promise<PolicyResult>;
  catalogFor(orgId: string, user: User, channelId?: string): Promise<CatalogTool[]>;
  /** The caller's tools, and the servers whose tools they see only after connecting `providerSlug`. */
  catalog(orgId: string, user: User, channelId?: string): Promise<{ tools: CatalogTool[]; needsConnect: CatalogGap[] }>;
  approve(orgId: string, server: string, glob: string, mode: string): Promise<PolicyResult>;
  approvalRules(orgId: string, server: string): Promise<PolicyResult>;
}

/** What the chat core needs of the runner. */
export interface ChatRunner {
  /** Accepts one tool call (its outcome is posted to `target` by the runner's notifier), or refuses it at the user's cap or for an unknown server. */
  enqueueToolCall(req: Omit<ToolCallRequest, 'turnId'>): Promise<EnqueueResult>;
  /** The caller's answer to an approval prompt (only the call's own user may answer). */
  answerApproval(req: ApprovalReply): Promise<ApprovalAnswer>;
  /** Accepts one agent turn (a plain message); dedupes on `eventId`. */
  enqueueTurn(req: TurnRequest): Promise<void>;
}

/** Everything the chat core calls, passed in by the composition root. */
export interface ChatServices {
  identity: Identity;
  linkCodes: LinkCodes;
  orgJoins: OrgJoins;
  audit: AuditLog;
  outbound: OutboundRouter;
  oauth: ChatOAuth;
  policy: ChatPolicy;
  runner: ChatRunner;
  /** Whether an LLM is configured (agent mode) or not (direct mode). */
  llm: boolean;
  /** Where `admin audit export` writes files. */
  dataDir: string;
  /** MCP servers' questions waiting for their callers (answered only by them). Default none: nothing is asked. */
  elicitations?: Pick<Elicitations, 'pending' | 'answer'>;
  /** Titles Slack's assistant threads (the fixed title when one opens). Default: not titled. */
  titles?: Pick<ThreadTitles, 'opened'>;
  /** Counts a thumbs up / down on an answer (the metric). Default: not counted. */
  countFeedback?(rating: 'up' | 'down'): void;
}
