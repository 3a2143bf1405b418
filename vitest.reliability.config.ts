import { defineConfig } from 'vitest/config';

// `npm run test:reliability`: crash loops, disk full, index loss, bad-input corpus, Redis outage.
// RELIABILITY_SCALE=full runs the sizes the issue names; the default is the reduced CI size.
export default defineConfig({
  test: {
    include: ['test/reliability/**/*.test.ts'],
    // The full size (10 × 1,000-file crash loop, 10,000 files in one folder) runs for tens of
    // minutes on a busy 2-core machine; the reduced size stays well under the CI budget.
    testTimeout: process.env['RELIABILITY_SCALE'] === 'full' ? 3_600_000 : 600_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 1,
  },
});
