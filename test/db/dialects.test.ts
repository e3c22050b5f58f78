import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import postgres from 'postgres';
import { getTableName, is } from 'drizzle-orm';
import { SQLiteTable } from 'drizzle-orm/sqlite-core';
import { eq } from 'drizzle-orm';
import { openDb } from '../../src/db/index.js';
import { migratePostgres, openPostgres, pgTables } from '../../src/db/pg/index.js';
import * as schema from '../../src/db/schema/index.js';
import { knownSchemaVersion, SchemaTooNewError } from '../../src/db/version.js';
import { pgMigrationsFolder } from '../../src/db/pg/index.js';
import { pgShape, shapeDifferences, sqliteShape } from '../support/db-shape.js';
import { startTestPostgres, type TestPostgres } from '../support/postgres.js';
import { tempDir, testKey } from '../support/env.js';
import { runCli } from '../support/cli.js';

let pg: TestPostgres;
let sqliteFile: string;
let cleanup: () => void;

beforeAll(async () => {
  pg = await startTestPostgres();
  const dir = tempDir();
  cleanup = dir.cleanup;
  sqliteFile = path.join(dir.dir, 'fresh.db');
  openDb(sqliteFile).$client.close();
});

afterAll(async () => {
  await pg?.stop();
  cleanup?.();
});

/** Whether `pid` is a live process: a zombie (exited, not yet reaped by its parent) is not. */
const running = (pid: number): boolean => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

const tableNames = (Object.values(schema) as unknown[])
  .filter((t): t is SQLiteTable => is(t, SQLiteTable))
  .map((t) => getTableName(t))
  .sort();

describe('one schema, two dialects', () => {
  it('the migrated SQLite and Postgres databases have the same tables, columns, types, keys, indexes and foreign keys', async () => {
    expect(await migratePostgres(pg.url)).toBe(knownSchemaVersion(pgMigrationsFolder));
    const lite = sqliteShape(sqliteFile);
    // Not vacuous: every table of the schema is there, with its columns, indexes and foreign keys.
    expect(lite.filter((l) => l.startsWith('table ')).map((l) => l.slice(6))).toEqual(tableNames);
    expect(lite).toContain('column connected_accounts.expires_at integer');
    expect(lite).toContain('unique index connected_accounts.connected_accounts_user_provider(user_id,provider_id)');
    expect(lite).toContain(
      'foreign key connected_accounts(provider_id) -> oauth_providers(id) on delete cascade on update no action',
    );
    expect(shapeDifferences(lite, await pgShape(pg.url))).toEqual([]);
  });

  it('a column added to one dialect only is reported', async () => {
    const url = await pg.createDatabase('drifted');
    await migratePostgres(url);
    const sql = postgres(url, { max: 1 });
    await sql`alter table orgs add column plan text`;
    await sql`create index orgs_plan on orgs (plan)`;
    await sql.end();
    expect(shapeDifferences(sqliteShape(sqliteFile), await pgShape(url))).toEqual([
      'postgres only: column orgs.plan text',
      'postgres only: index orgs.orgs_plan(plan)',
    ]);
  });

  it('a second Postgres migration run changes nothing, and code older than the database refuses it', async () => {
    const url = await pg.createDatabase('versioned');
    const known = knownSchemaVersion(pgMigrationsFolder);
    expect(await migratePostgres(url)).toBe(known);
    const before = await pgShape(url);
    expect(await migratePostgres(url)).toBe(0);
    expect(await pgShape(url)).toEqual(before);
    const sql = postgres(url, { max: 1 });
    try {
      const [row] = await sql`select version, app_version from schema_version`;
      expect(Number(row!['version'])).toBe(known);
      // As if a newer onbehalf had migrated it one step further.
      await sql`update schema_version set version = ${known + 1}, app_version = '9.9.9'`;
    } finally {
      await sql.end();
    }
    const refused = await migratePostgres(url).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SchemaTooNewError);
    expect((refused as Error).message).toBe(
      `the database was migrated by a newer onbehalf (9.9.9, schema version ${known + 1}; this is 0.1.0, which knows schema version ${known}); run that version or restore a backup`,
    );
  });

  it('`onbehalf migrate` with a Postgres DATABASE_URL applies the Postgres migrations once, and names an unreachable database in one line', async () => {
    const url = await pg.createDatabase('cli');
    const { dir, cleanup: done } = tempDir();
    try {
      const env = (databaseUrl: string) => ({
        ONBEHALF_DATA_DIR: dir,
        ONBEHALF_KEYS: testKey(),
        DATABASE_URL: databaseUrl,
      });
      const first = await runCli(['migrate'], { cwd: dir, env: env(url), timeoutMs: 20_000 });
      expect(first).toMatchObject({
        code: 0,
        stdout: `Applied ${knownSchemaVersion(pgMigrationsFolder)} migration(s).\n`,
      });
      const again = await runCli(['migrate'], { cwd: dir, env: env(url), timeoutMs: 20_000 });
      expect(again).toMatchObject({ code: 0, stdout: 'Database is up to date.\n' });
      expect(shapeDifferences(sqliteShape(sqliteFile), await pgShape(url))).toEqual([]);
      const down = await runCli(['migrate'], {
        cwd: dir,
        env: env('postgres://onbehalf:hunter2@127.0.0.1:9/onbehalf'),
        timeoutMs: 20_000,
      });
      expect(down).toMatchObject({
        code: 2,
        stderr: 'onbehalf: cannot use the Postgres database 127.0.0.1:9/onbehalf of DATABASE_URL: ECONNREFUSED\n',
      });
    } finally {
      done();
    }
  });

  it('replicas migrating one database at once take turns: every migration is applied once', async () => {
    const url = await pg.createDatabase('race');
    const applied = await Promise.all([migratePostgres(url), migratePostgres(url), migratePostgres(url)]);
    expect(applied.sort()).toEqual([0, 0, knownSchemaVersion(pgMigrationsFolder)]);
    expect(shapeDifferences(sqliteShape(sqliteFile), await pgShape(url))).toEqual([]);
  });

  it('the private test server stops by its PID and leaves no directory behind', async () => {
    const other = await startTestPostgres();
    expect(running(other.pid)).toBe(true);
    await other.stop();
    expect(running(other.pid)).toBe(false);
    expect(existsSync(other.dir)).toBe(false);
  });

  it('the same query builder calls write and read the same values on both dialects (defaults, JSON, booleans, epoch ms)', async () => {
    const url = await pg.createDatabase('values');
    await migratePostgres(url);
    const before = Date.now();
    const org = { id: 'o1', name: 'Acme' };
    const server = { id: 's1', orgId: 'o1', name: 'notes', transport: 'http' as const, url: 'https://notes.example' };
    const call = {
      id: 'c1',
      orgId: 'o1',
      userId: 'u1',
      serverId: 's1',
      tool: 'search',
      args: { q: 'ü "quoted"', n: 2 },
      status: 'queued' as const,
      replyTarget: { platform: 'slack' as const, workspaceId: 'T1', channelId: 'C1', userId: 'U1', isDirect: false },
      requestId: 'r1',
      updatedAt: 1_796_000_000_123,
    };
    const user = { id: 'u1', orgId: 'o1', displayName: 'Alice' };
    const lite = openDb(path.join(path.dirname(sqliteFile), 'values.db'));
    lite.insert(schema.orgs).values(org).run();
    lite.insert(schema.users).values(user).run();
    lite.insert(schema.mcpServers).values(server).run();
    lite.insert(schema.toolCalls).values(call).run();
    const fromLite = {
      server: lite.select().from(schema.mcpServers).where(eq(schema.mcpServers.id, 's1')).get(),
      call: lite.select().from(schema.toolCalls).where(eq(schema.toolCalls.id, 'c1')).get(),
    };
    lite.$client.close();
    const db = openPostgres(url, { max: 1 });
    try {
      await db.insert(pgTables.orgs).values(org);
      await db.insert(pgTables.users).values(user);
      await db.insert(pgTables.mcpServers).values(server);
      await db.insert(pgTables.toolCalls).values(call);
      const [pgServer] = await db.select().from(pgTables.mcpServers).where(eq(pgTables.mcpServers.id, 's1'));
      const [pgCall] = await db.select().from(pgTables.toolCalls).where(eq(pgTables.toolCalls.id, 'c1'));
      const times = (r: { createdAt: number } | undefined) => r?.createdAt ?? 0;
      for (const t of [times(fromLite.server), times(pgServer), times(fromLite.call), times(pgCall)]) {
        expect(typeof t).toBe('number');
        expect(t).toBeGreaterThanOrEqual(before - 1000);
        expect(t).toBeLessThanOrEqual(Date.now() + 1000);
      }
      const sameBut = (r: object | undefined) => ({ ...r, createdAt: 0 });
      expect(sameBut(pgServer)).toEqual(sameBut(fromLite.server));
      expect(sameBut(pgCall)).toEqual(sameBut(fromLite.call));
      expect(pgServer).toMatchObject({ args: [], timeoutMs: 30000, privateResults: false, source: 'admin' });
      expect(pgCall).toMatchObject({ args: call.args, updatedAt: call.updatedAt, attempts: 0, outcome: null });
      // Stored as JSON values, not as JSON strings holding JSON (SQL can look inside them).
      expect(await db.$client`select jsonb_typeof(args) as t, args ->> 'q' as q from tool_calls`).toEqual([
        { t: 'object', q: call.args.q },
      ]);
    } finally {
      await db.$client.end();
    }
  });
});
