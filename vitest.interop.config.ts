import { defineConfig } from 'vitest/config'

/**
 * `npm run test:interop`: the migrate command between the reference PDS (installed into
 * bench/node_modules on first use, as `npm run bench` does) and ours, and the restore command
 * with the reference as the new home. Not part of `npm test`:
 * the reference install is large and the runs are long.
 */
export default defineConfig({
  test: {
    include: ['test/interop/**/*.test.ts'],
    environment: 'node',
    testTimeout: 600_000,
    hookTimeout: 600_000,
    fileParallelism: false,
  },
})
