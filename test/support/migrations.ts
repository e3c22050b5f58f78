// A SQLite file migrated as an earlier release left it, to test what the next migrations do to it.
import path from 'node:path';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { migrationsFolder } from '../../src/db/index.js';

/** Applies to `file` every committed migration before the one tagged `tag` (default: all but the newest); `dir` holds the copies. */
export function migrateBefore(dir: string, file: string, tag?: string): void {
  const folder = path.join(dir, 'previous');
  mkdirSync(path.join(folder, 'meta'), { recursive: true });
  const journal = JSON.parse(readFileSync(path.join(migrationsFolder, 'meta', '_journal.json'), 'utf8')) as {
    entries: { tag: string }[];
  };
  const upTo = tag === undefined ? -1 : journal.entries.findIndex((e) => e.tag === tag);
  if (upTo === -1 && tag !== undefined) throw new Error(`no migration tagged ${tag}`);
  journal.entries = journal.entries.slice(0, upTo);
  writeFileSync(path.join(folder, 'meta', '_journal.json'), JSON.stringify(journal));
  for (const e of journal.entries)
    copyFileSync(path.join(migrationsFolder, `${e.tag}.sql`), path.join(folder, `${e.tag}.sql`));
  const sqlite = new Database(file);
  migrate(drizzle(sqlite), { migrationsFolder: folder });
  sqlite.close();
}
