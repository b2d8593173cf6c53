/**
 * Runs in Node before the workerd tests: a real local PLC directory (in memory) for the
 * Worker under test to create and resolve DIDs against.
 */
import type { TestProject } from 'vitest/node'
import { startPlcServer } from '../helpers/plc.ts'

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const plc = await startPlcServer({ port: 0, dataFile: null })
  project.provide('plcUrl', plc.url)
  return () => plc.close()
}
