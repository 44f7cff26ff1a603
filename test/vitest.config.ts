import { defineConfig } from 'vitest/config';

// Tests start real servers: allow time for process start-up, and keep the
// number of parallel files modest on a 2-core machine.
export default defineConfig({
  test: {
    root: new URL('..', import.meta.url).pathname,
    include: ['test/**/*.test.ts'],
    // A scratch working directory per test (see the file).
    setupFiles: ['test/helpers/sandbox.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 3,
  },
});
