import { defineConfig } from 'vitest/config';

// The fault drills (`npm run test:faults`): one file at a time, since each kills or starves a peer
// and measures timing on a 2-core machine; `--expose-gc` lets the barrage measure memory after GC.
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    exclude: ['**/node_modules/**'],
    pool: 'forks',
    fileParallelism: false,
    execArgv: ['--expose-gc'],
    testTimeout: 90_000,
    hookTimeout: 60_000,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
