// Facts about the stored data itself.
import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/** Facts about the stored data itself, e.g. which seal format the values were upgraded to. */
export const storageMeta = sqliteTable('storage_meta', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

/**
 * One row: the schema version (how many of this dialect's migrations) the code last migrated the
 * database to, and which onbehalf did it. Code that knows fewer migrations refuses to start.
 */
export const schemaVersion = sqliteTable('schema_version', {
  id: text('id').primaryKey(),
  version: integer('version').notNull(),
  appVersion: text('app_version').notNull(),
  migratedAt: integer('migrated_at').notNull(),
});

/**
 * One row: a counter that every change to the configuration a tool call reads bumps (servers, their
 * bindings, access and approval rules, OAuth providers, teams and their members, and users), by triggers in the
 * database itself (migrations sqlite 0015, postgres 0007), so a change by any process or by hand counts.
 * A call's row is read together with it; a process's cached copies of those rows serve that call only
 * when they were read at least that recently (db/config-cache.ts).
 */
export const configVersion = sqliteTable('config_version', {
  id: text('id').primaryKey(),
  v: integer('v').notNull(),
});
