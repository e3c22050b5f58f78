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
