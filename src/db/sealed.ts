// The one declaration of every sealed column and the owner its AAD binds. Seal sites, `keys rotate`
// and the start-up upgrade all build their context from here, so table, column and owner fields
// cannot drift apart.
import { getTableName } from 'drizzle-orm';
import type { SealContext } from '../crypto/keyring.js';
import { connectedAccounts, oauthProviders, oauthStates, secrets, workspaces } from './schema.js';

type Table = typeof connectedAccounts | typeof oauthProviders | typeof oauthStates | typeof secrets | typeof workspaces;
type Row<T extends Table> = T['$inferSelect'];
type Key<T extends Table> = Extract<keyof Row<T>, string>;

/** One table's sealed columns and owner fields, with the context builder for its rows. */
export interface SealedTable<T extends Table = Table, C extends Key<T> = Key<T>, O extends Key<T> = Key<T>> {
  table: T;
  /** SQL table name. */
  name: string;
  /** Property keys of the sealed columns. */
  columns: readonly C[];
  /** Property keys of the owner fields bound into the AAD (besides the row id). */
  owner: readonly O[];
  /** The AAD context of `column` in `row`. */
  ctx(row: Pick<Row<T>, 'id' | O>, column: C): SealContext;
  /** SQL name of a column given its property key. */
  sqlName(key: C | O): string;
}

function sealed<T extends Table, C extends Key<T>, O extends Key<T>>(
  table: T,
  columns: readonly C[],
  owner: readonly O[],
): SealedTable<T, C, O> {
  const sqlName = (k: string) => (table as unknown as Record<string, { name: string }>)[k]!.name;
  const name = getTableName(table);
  return {
    table,
    name,
    columns,
    owner,
    sqlName,
    ctx(row, column) {
      const r = row as Record<string, unknown>;
      return {
        table: name,
        column: sqlName(column),
        rowId: String(r['id']),
        owner: Object.fromEntries(owner.map((o) => [sqlName(o), String(r[o] ?? '')])),
      };
    },
  };
}

/** Every sealed column, by table. A new sealed column goes here, or it is neither owner-bound nor rotated. */
export const sealedTables = {
  /** A grant: its org, user and provider. */
  connectedAccounts: sealed(
    connectedAccounts,
    ['accessTokenSealed', 'refreshTokenSealed'],
    ['orgId', 'userId', 'providerId'],
  ),
  /** A connect flow's PKCE verifier: its org, user and provider. */
  oauthStates: sealed(oauthStates, ['codeVerifierSealed'], ['orgId', 'userId', 'providerId']),
  /** A client secret: its org and provider slug. */
  oauthProviders: sealed(oauthProviders, ['clientSecretSealed'], ['orgId', 'slug']),
  /** A named secret: its org, scope, scope id and name. */
  secrets: sealed(secrets, ['valueSealed'], ['orgId', 'scope', 'scopeId', 'name']),
  /** A Slack bot token: platform and workspace id (not the org: an org join moves a workspace between orgs). */
  workspaces: sealed(workspaces, ['botTokenSealed'], ['platform', 'workspaceId']),
};

/** Every sealed table, for `keys rotate` and the upgrade. */
export const allSealedTables: readonly SealedTable[] = Object.values(sealedTables) as unknown as SealedTable[];

/** Every sealed column as SQL names: table, column. */
export const sealedColumns = allSealedTables.flatMap((t) =>
  t.columns.map((c) => ({ table: t.name, column: t.sqlName(c) })),
);
