/**
 * Runs in Node before the workerd tests: a real local PLC directory (in memory) for the
 * Worker under test to create and resolve DIDs against, with a moderation service's DID in it;
 * and the fuzz test's settings.
 */
import type { TestProject } from 'vitest/node'
import { registerModService } from '../helpers/mod-service.ts'
import { startPlcServer } from '../helpers/plc.ts'

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const plc = await startPlcServer({ port: 0, dataFile: null })
  project.provide('plcUrl', plc.url)
  // The moderation service whose JWTs the Worker under test accepts on com.atproto.admin.*.
  const modService = await registerModService(plc.url)
  project.provide('modServiceDid', modService.did)
  project.provide('modServiceKey', modService.privateKeyHex)
  // The fuzz test's knobs (test/worker/fuzz.test.ts): workerd sees no process.env.
  project.provide('fuzzSeed', process.env.FUZZ_SEED ?? '')
  project.provide('fuzzCases', process.env.FUZZ_CASES ?? '')
  return () => plc.close()
}
