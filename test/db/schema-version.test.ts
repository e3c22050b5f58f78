import { describe, expect, it } from 'vitest';
import path from 'node:path';
import Database from 'better-sqlite3';
import { migrationsFolder, openDb, runMigrations } from '../../src/db/index.js';
import { appVersion, knownSchemaVersion, SchemaTooNewError } from '../../src/db/version.js';
import { sqliteShape } from '../support/db-shape.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/env.js';
import { migrateBefore } from '../support/migrations.js';

const known = knownSchemaVersion(migrationsFolder);

const versionRow = (file: string) => {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('select version, app_version as appVersion from schema_version').all();
  } finally {
    db.close();
  }
};

describe('schema version', () => {
  it('a migrated database records the schema version and the onbehalf that migrated it', () => {
    const { dir, cleanup } = tempDir();
    try {
      const file = path.join(dir, 'x.db');
      openDb(file).$client.close();
      expect(versionRow(file)).toEqual([{ version: known, appVersion }]);
    } finally {
      cleanup();
    }
  });

  it('a database migrated by the previous release gets the newest migration and ends as a fresh one', () => {
    const { dir, cleanup } = tempDir();
    try {
      const file = path.join(dir, 'old.db');
      migrateBefore(dir, file);
      const db = openDb(file, { migrate: false });
      expect(runMigrations(db)).toBe(1);
      db.$client.close();
      const fresh = path.join(dir, 'fresh.db');
      openDb(fresh).$client.close();
      expect(sqliteShape(file)).toEqual(sqliteShape(fresh));
      expect(versionRow(file)).toEqual([{ version: known, appVersion }]);
    } finally {
      cleanup();
    }
  });

  it('code older than the database refuses to start or migrate, in one line, and changes nothing', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const file = path.join(dir, 'newer.db');
      openDb(file).$client.close();
      // As if a newer onbehalf had migrated it one step further.
      const raw = new Database(file);
      raw.prepare(`update schema_version set version = ?, app_version = '9.9.9'`).run(known + 1);
      raw.close();
      const line = `onbehalf: the database was migrated by a newer onbehalf (9.9.9, schema version ${known + 1}; this is ${appVersion}, which knows schema version ${known}); run that version or restore a backup\n`;
      expect(() => openDb(file)).toThrow(SchemaTooNewError);
      const env = { NODE_ENV: 'test', PORT: '0', ONBEHALF_DATA_DIR: dir, DATABASE_URL: `file:${file}` };
      for (const command of ['migrate', 'serve']) {
        const r = await runCli([command], { cwd: dir, env, timeoutMs: 20_000 });
        expect({ command, code: r.code, stderr: r.stderr }).toEqual({ command, code: 2, stderr: line });
      }
      expect(versionRow(file)).toEqual([{ version: known + 1, appVersion: '9.9.9' }]);
    } finally {
      cleanup();
    }
  });
});
