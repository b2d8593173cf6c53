import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin'
import { defineConfig } from 'vitest/config'

/** Settings the Worker under test runs with (secrets are test-only values). */
const testBindings = {
  PDS_DEV_MODE: 'true',
  PDS_HOSTNAME: 'localhost',
  PDS_VALIDATE_RESPONSES: 'true',
  PDS_CRAWLERS: 'none',
  PDS_JWT_SECRET: 'test-jwt-secret',
  PDS_ADMIN_PASSWORD: 'test-admin-password',
  PDS_PLC_ROTATION_KEY: '9ab7e8c4b2d1f0a3c5e7d9b1a3c5e7f9a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9d1',
  PDS_KEY_ENCRYPTION_SECRET: 'test-key-encryption-secret',
  // JS runs many times slower in the test pool than in production: cheap password hashes.
  PDS_PASSWORD_SCRYPT_LOG_N: '10',
  PDS_PASSWORD_SCRYPT_P: '1',
  // Mail goes to the development mailbox (D1), which the tests read.
  PDS_MAILER: 'dev',
  // Small enough for the import tests to pass it cheaply.
  PDS_MAX_IMPORT_BYTES: String(4 * 1024 * 1024),
}

export default defineConfig({
  test: {
    reporters: ['default', './test/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/e2e/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        plugins: [
          cloudflareTest(async ({ inject }) => ({
            wrangler: { configPath: './wrangler.toml' },
            miniflare: {
              bindings: {
                ...testBindings,
                PDS_PLC_URL: inject('plcUrl'),
                PDS_MOD_SERVICE_DID: inject('modServiceDid'),
                TEST_MIGRATIONS: await readD1Migrations('./migrations'),
              },
              // Cloudflare's Email Service binding, for the `cloudflare` mailer's tests.
              email: {
                send_email: [
                  {
                    name: 'EMAIL',
                    allowed_sender_addresses: ['noreply@pds.test'],
                    allowed_destination_addresses: ['alice@example.com'],
                  },
                ],
              },
            },
          })),
        ],
        test: {
          name: 'worker',
          include: ['test/worker/**/*.test.ts'],
          globalSetup: ['test/worker/global-setup.ts'],
          // Pre-bundled, the pure-JS crypto runs about 10x faster in the pool (scrypt, ECDSA).
          deps: {
            optimizer: {
              ssr: {
                enabled: true,
                include: [
                  '@noble/hashes/scrypt.js',
                  '@noble/hashes/sha2.js',
                  '@noble/curves/secp256k1.js',
                  '@noble/curves/nist.js',
                ],
              },
            },
          },
          setupFiles: ['test/worker/setup.ts'],
          testTimeout: 30_000,
        },
      },
    ],
  },
})
