// Values the global setups hand to tests through `inject()`.
import 'vitest'

declare module 'vitest' {
  export interface ProvidedContext {
    /** The local PLC directory (test/worker and test/e2e). */
    plcUrl: string
    /** The moderation service DID the Worker under test trusts (test/worker). */
    modServiceDid: string
    /** Its signing key, hex (test/worker). */
    modServiceKey: string
    /** The running PDS under test (test/e2e). */
    pdsUrl: string
    /** The stand-in AppView (also chat and moderation) the PDS proxies to (test/e2e). */
    appViewUrl: string
    /** `FUZZ_SEED` for test/worker/fuzz.test.ts ('' for its default). */
    fuzzSeed: string
    /** `FUZZ_CASES`: fuzz cases per method and class ('' for the default). */
    fuzzCases: string
  }
}
