// `config_version` (src/db/schema/storage.ts) is what keeps a worker's cached configuration exact
// (src/db/config-cache.ts): every table whose rows a call reads from that cache must bump it on
// every insert, update and delete, on both dialects. test/runner/config-cache.test.ts shows a warm
// worker obeying a change; this holds the list of tables against the triggers the migrations made.
import { describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { storesOfBothDialects } from '../support/store.js';

const stores = storesOfBothDialects();

/** Every table read through `configCache` (policy.ts, teams.ts, approvals.ts, oauth/providers.ts, runner/execute.ts). */
const cached = [
  'mcp_servers',
  'credential_bindings',
  'access_rules',
  'approval_rules',
  'oauth_providers',
  'teams',
  'team_members',
  'users',
];

describe.each(['sqlite', 'postgres'] as const)('%s: config_version', (dialect) => {
  const s = () => stores[dialect];

  it('starts at 0, and every table a call reads from the cache bumps it on insert, update and delete', async () => {
    expect(await s().execute(sql`select v from config_version where id = 'current'`)).toEqual([
      { v: dialect === 'postgres' ? '0' : 0 },
    ]);
    const found = new Map<string, Set<string>>();
    if (dialect === 'sqlite') {
      const rows = await s().execute<{ tbl_name: string; sql: string }>(
        sql`select tbl_name, sql from sqlite_master where type = 'trigger'`,
      );
      for (const r of rows) {
        if (!/UPDATE `config_version` SET `v` = `v` \+ 1/.test(r.sql)) continue;
        const op = /AFTER (INSERT|UPDATE|DELETE) ON/.exec(r.sql)![1]!;
        found.set(r.tbl_name, (found.get(r.tbl_name) ?? new Set()).add(op));
      }
    } else {
      const rows = await s().execute<{ tbl: string; def: string }>(
        sql`select c.relname as tbl, pg_get_triggerdef(t.oid) as def from pg_trigger t
            join pg_class c on c.oid = t.tgrelid
            where not t.tgisinternal and t.tgfoid = 'onbehalf_config_changed'::regproc`,
      );
      for (const r of rows)
        for (const op of ['INSERT', 'UPDATE', 'DELETE'])
          if (new RegExp(`\\b${op}\\b`).test(r.def)) found.set(r.tbl, (found.get(r.tbl) ?? new Set()).add(op));
    }
    for (const table of cached)
      expect([table, [...(found.get(table) ?? [])].sort()]).toEqual([table, ['DELETE', 'INSERT', 'UPDATE']]);
  });

  it('a change counts once it commits, whoever makes it', async () => {
    const v = async () => Number((await s().execute<{ v: number | string }>(sql`select v from config_version`))[0]!.v);
    const before = await v();
    await s().execute(sql`insert into orgs (id, name) values (${`o-${dialect}`}, 'Acme')`);
    expect(await v()).toBe(before);
    await s().execute(
      sql`insert into teams (id, org_id, name, created_at) values (${`t-${dialect}`}, ${`o-${dialect}`}, 'support', 1)`,
    );
    expect(await v()).toBeGreaterThan(before);
    const mid = await v();
    await s().execute(sql`delete from teams where id = ${`t-${dialect}`}`);
    expect(await v()).toBeGreaterThan(mid);
  });
});
