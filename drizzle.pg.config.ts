import { defineConfig } from 'drizzle-kit';

// Postgres: the tables derived from the SQLite schema (src/db/pg/derive.ts). No database is
// contacted: `drizzle-kit generate` diffs against the committed snapshots in drizzle/postgres/meta.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/pg/schema.ts',
  out: './drizzle/postgres',
});
