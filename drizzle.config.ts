import { defineConfig } from 'drizzle-kit';

// SQLite, the embedded default. The Postgres migrations come from drizzle.pg.config.ts;
// `npm run db:generate` generates both.
export default defineConfig({
  dialect: 'sqlite',
  schema: './src/db/schema',
  out: './drizzle/sqlite',
});
