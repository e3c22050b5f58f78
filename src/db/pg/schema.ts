// The Postgres tables, one named export each (drizzle-kit reads a schema module's named exports).
// Every one is derived from the SQLite table of the same name in ../schema/ (see ./derive.ts); a
// table added there and not here is missing from the Postgres migrations, which
// test/db/dialects.test.ts reports.
import * as sqlite from '../schema/index.js';
import { derivePgTables } from './derive.js';

/** Every Postgres table, by the export name of its SQLite table. */
export const pgTables = derivePgTables(sqlite);

export const {
  orgs,
  workspaces,
  users,
  linkedAccounts,
  linkCodes,
  linkAttempts,
  oauthProviders,
  connectedAccounts,
  oauthStates,
  usedLinks,
  teams,
  teamMembers,
  teamChannels,
  mcpServers,
  credentialBindings,
  accessRules,
  secrets,
  approvalRules,
  toolCalls,
  threadMessages,
  auditEvents,
  auditSinkCursors,
  storageMeta,
  schemaVersion,
  declaredObjects,
  configVersion,
} = pgTables;
