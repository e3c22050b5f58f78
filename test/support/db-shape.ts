// The shape of a migrated database, read from the database's own catalog (not from our schema
// code), as one sorted line per fact, so two dialects' shapes compare line by line.
import Database from 'better-sqlite3';
import postgres from 'postgres';

/**
 * Type families: the SQLite affinity a Postgres type stands for. JSON is text in SQLite and jsonb in
 * Postgres; booleans are 0/1 integers in SQLite; epoch-ms integers are bigint (a Postgres
 * `integer`, int4, would overflow and is deliberately not a family member).
 */
const pgFamily: Record<string, string> = {
  text: 'text',
  jsonb: 'text',
  bigint: 'integer',
  boolean: 'integer',
  'double precision': 'real',
  bytea: 'blob',
};

const fkAction: Record<string, string> = {
  a: 'no action',
  r: 'restrict',
  c: 'cascade',
  n: 'set null',
  d: 'set default',
};

const column = (t: string, name: string, family: string, notNull: boolean, hasDefault: boolean) =>
  `column ${t}.${name} ${family}${notNull ? ' not null' : ''}${hasDefault ? ' default' : ''}`;

const fk = (t: string, from: string[], to: string, toCols: string[], onDelete: string, onUpdate: string) =>
  `foreign key ${t}(${from.join(',')}) -> ${to}(${toCols.join(',')}) on delete ${onDelete} on update ${onUpdate}`;

type Row = Record<string, unknown>;

/** The shape of a SQLite file: tables, columns, primary keys, indexes, unique constraints, foreign keys. */
export function sqliteShape(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    const all = (q: string) => db.prepare(q).all() as Row[];
    const lines: string[] = [];
    const tables = all(
      `select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name <> '__drizzle_migrations'`,
    ).map((r) => String(r['name']));
    for (const t of tables) {
      lines.push(`table ${t}`);
      const cols = all(`pragma table_info('${t}')`);
      for (const c of cols)
        lines.push(
          column(
            t,
            String(c['name']),
            String(c['type']).toLowerCase(),
            c['notnull'] === 1 || Number(c['pk']) > 0,
            c['dflt_value'] !== null,
          ),
        );
      const pk = cols.filter((c) => Number(c['pk']) > 0).sort((a, b) => Number(a['pk']) - Number(b['pk']));
      if (pk.length) lines.push(`primary key ${t}(${pk.map((c) => c['name']).join(',')})`);
      for (const ix of all(`pragma index_list('${t}')`)) {
        if (ix['origin'] === 'pk') continue;
        const on = all(`pragma index_info('${String(ix['name'])}')`)
          .map((c) => c['name'])
          .join(',');
        if (ix['origin'] === 'u') lines.push(`unique constraint ${t}(${on})`);
        else lines.push(`${ix['unique'] === 1 ? 'unique index' : 'index'} ${t}.${String(ix['name'])}(${on})`);
      }
      const fks = new Map<number, Row[]>();
      for (const f of all(`pragma foreign_key_list('${t}')`))
        fks.set(Number(f['id']), [...(fks.get(Number(f['id'])) ?? []), f]);
      for (const parts of fks.values()) {
        const p = parts.sort((a, b) => Number(a['seq']) - Number(b['seq']));
        const first = p[0]!;
        lines.push(
          fk(
            t,
            p.map((f) => String(f['from'])),
            String(first['table']),
            p.map((f) => String(f['to'])),
            String(first['on_delete']).toLowerCase(),
            String(first['on_update']).toLowerCase(),
          ),
        );
      }
    }
    return lines.sort();
  } finally {
    db.close();
  }
}

/** The same facts of the `public` schema of a Postgres database. */
export async function pgShape(url: string): Promise<string[]> {
  const sql = postgres(url, { max: 1, onnotice: () => undefined });
  try {
    const lines: string[] = [];
    const tables =
      await sql`select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`;
    for (const t of tables) lines.push(`table ${String(t['table_name'])}`);
    const cols =
      await sql`select table_name, column_name, data_type, is_nullable, column_default from information_schema.columns where table_schema = 'public'`;
    for (const c of cols)
      lines.push(
        column(
          String(c['table_name']),
          String(c['column_name']),
          pgFamily[String(c['data_type'])] ?? `pg:${String(c['data_type'])}`,
          c['is_nullable'] === 'NO',
          c['column_default'] !== null,
        ),
      );
    // Key columns in key order, by attribute number.
    const keyCols = (rel: string, keys: string) =>
      `array(select a.attname::text from unnest(${keys}) with ordinality k(n, i) join pg_attribute a on a.attrelid = ${rel} and a.attnum = k.n order by k.i)`;
    const constraints = await sql.unsafe(`
      select c.contype, t.relname as tbl, f.relname as ftbl, c.confdeltype, c.confupdtype,
             ${keyCols('c.conrelid', 'c.conkey')} as cols, ${keyCols('c.confrelid', 'c.confkey')} as fcols
      from pg_constraint c join pg_class t on t.oid = c.conrelid join pg_namespace ns on ns.oid = t.relnamespace
      left join pg_class f on f.oid = c.confrelid
      where ns.nspname = 'public' and c.contype in ('p', 'u', 'f')`);
    for (const c of constraints) {
      const cs = (c['cols'] as string[]).join(',');
      if (c['contype'] === 'p') lines.push(`primary key ${String(c['tbl'])}(${cs})`);
      else if (c['contype'] === 'u') lines.push(`unique constraint ${String(c['tbl'])}(${cs})`);
      else
        lines.push(
          fk(
            String(c['tbl']),
            c['cols'] as string[],
            String(c['ftbl']),
            c['fcols'] as string[],
            fkAction[String(c['confdeltype'])]!,
            fkAction[String(c['confupdtype'])]!,
          ),
        );
    }
    // Indexes other than those backing a primary key or unique constraint (listed above).
    const indexes = await sql.unsafe(`
      select t.relname as tbl, i.relname as name, ix.indisunique as uniq, ${keyCols('t.oid', 'ix.indkey::int2[]')} as cols
      from pg_index ix join pg_class i on i.oid = ix.indexrelid join pg_class t on t.oid = ix.indrelid
      join pg_namespace ns on ns.oid = t.relnamespace
      join pg_indexes pi on pi.schemaname = ns.nspname and pi.indexname = i.relname
      where ns.nspname = 'public' and not exists (select 1 from pg_constraint c where c.conindid = ix.indexrelid)`);
    for (const ix of indexes)
      lines.push(
        `${ix['uniq'] ? 'unique index' : 'index'} ${String(ix['tbl'])}.${String(ix['name'])}(${(ix['cols'] as string[]).join(',')})`,
      );
    return lines.sort();
  } finally {
    await sql.end();
  }
}

/** Lines only one of the two shapes has, each prefixed by the side that has it. */
export function shapeDifferences(sqlite: string[], pg: string[]): string[] {
  const a = new Set(sqlite);
  const b = new Set(pg);
  return [
    ...sqlite.filter((l) => !b.has(l)).map((l) => `sqlite only: ${l}`),
    ...pg.filter((l) => !a.has(l)).map((l) => `postgres only: ${l}`),
  ];
}
