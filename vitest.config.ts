import { defineConfig } from 'vitest/config';

// Tests import the workspace packages by name; the `source` export condition points them at
// src/*.ts so tests never run against a stale build.
export default defineConfig({
  resolve: { conditions: ['source', 'module', 'node', 'default'] },
  ssr: { resolve: { conditions: ['source', 'module', 'node', 'default'] } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts', 'fuzz/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Any read beside the repository throws: the suite must pass from a clone with nothing beside it.
    setupFiles: ['test/setup/no-outside-reads.ts'],
  },
});
