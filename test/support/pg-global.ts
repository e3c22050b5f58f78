// `npm run test:pg`: one private Postgres server for the whole run, with a migrated template
// database; each test's store gets a fresh database copied from the template (test/support/store.ts).
import type { TestProject } from 'vitest/node';
import { migratePostgres } from '../../src/db/pg/index.js';
import { startTestPostgres, type TestPostgres } from './postgres.js';

let pg: TestPostgres | undefined;

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of the migrated template database of the run's private Postgres server. */
    pgTemplateUrl: string;
  }
}

export async function setup(project: TestProject): Promise<void> {
  pg = await startTestPostgres();
  const url = await pg.createDatabase('onbehalf_template');
  await migratePostgres(url);
  project.provide('pgTemplateUrl', url);
}

export async function teardown(): Promise<void> {
  await pg?.stop();
}
