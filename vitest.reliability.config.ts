import { defineConfig } from 'vitest/config';

// `npm run test:reliability`: crash loops, disk full, index loss, bad-input corpus, Redis outage.
// RELIABILITY_SCALE=full runs the sizes the issue names; the default is the reduced CI size.
export default defineConfig({
  test: {
    include: ['test/reliability/**/*.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 1,
  },
});
