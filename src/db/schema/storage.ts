// Facts about the stored data itself.
import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/** Facts about the stored data itself, e.g. which seal format the values were upgraded to. */
export const storageMeta = sqliteTable('storage_meta', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
  updatedAt: integer('updated_at').notNull(),
});
