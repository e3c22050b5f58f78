import { defineConfig } from 'vitest/config';

// `npm run test:pg`: the storage, OAuth, runner, identity and e2e tests again, on Postgres (one
// private server for the run, test/support/pg-global.ts; a fresh database per store).
export default defineConfig({
  test: {
    include: ['test/{db,oauth,runner,identity,e2e,config-file}/**/*.test.ts'],
    exclude: ['**/node_modules/**'],
    pool: 'forks',
    env: { ONBEHALF_TEST_DB: 'postgres' },
    globalSetup: ['./test/support/pg-global.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
