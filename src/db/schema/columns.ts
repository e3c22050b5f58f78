// Column helpers every schema file shares. Times are epoch milliseconds.
import { sql, type Column } from 'drizzle-orm';
import { integer, text } from 'drizzle-orm/sqlite-core';

/** A random text primary key (`newId`). */
export const id = () => text('id').primaryKey();

/** Insert time, set by the database. */
export const createdAt = () =>
  integer('created_at')
    .notNull()
    .default(sql`(unixepoch('subsec') * 1000)`);

// Keyed by the builder's config object, which drizzle hands on to the built column unchanged.
const owners = new WeakMap<object, readonly string[]>();
const configOf = (c: object): object => (c as unknown as { config: object }).config;

/**
 * A text column holding a value sealed by src/crypto. Its AAD binds table, column, row id and the
 * row's `owner` fields (property keys, e.g. `['orgId', 'userId']`), so a value moved to another
 * row or owner does not open. Defining the column registers it: `keys rotate`, the start-up
 * upgrade and the leak tests read the registry (`db/sealed.ts`), so none can be left out.
 */
export function sealed(name: string, owner: readonly string[]) {
  const column = text(name);
  owners.set(configOf(column), owner);
  return column;
}

/** The owner fields of a column defined with `sealed`, or undefined for any other column. */
export function sealedOwner(column: Column): readonly string[] | undefined {
  return owners.get(configOf(column));
}
