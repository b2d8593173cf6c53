/**
 * How the account commands (recovery-key, backup, restore) run: expected failures print one
 * clear line, usage mistakes print the usage, anything else is a bug and prints its stack.
 * This folder is the kit every client command shares (migrate too): the XRPC client, identity
 * look-ups, the secret prompt, sign-in, the progress bar, the local repo and these failures.
 */

import { type ParseArgsOptionsConfig, parseArgs } from 'node:util'
import { PlcError } from '../../src/identity/plc-client.ts'
import { PaperKeyError } from '../recovery-key/paper-key.ts'
import { expectedFailure } from './errors.ts'

export class CommandError extends Error {
  override name = 'CommandError'
}

export class UsageError extends Error {
  override name = 'UsageError'
}

export function runCommand(usage: string, main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      if (err instanceof UsageError) {
        process.stderr.write(err.message ? `error: ${err.message}\n\n${usage}\n` : `${usage}\n`)
        process.exit(err.message ? 2 : 0)
      }
      const message =
        err instanceof CommandError || err instanceof PaperKeyError
          ? err.message
          : err instanceof PlcError
            ? `the PLC directory: ${err.message}`
            : expectedFailure(err)
      if (message !== null) process.stderr.write(`\nerror: ${message}\n`)
      else process.stderr.write(`\nunexpected error: ${(err as Error)?.stack ?? String(err)}\n`)
      process.exit(1)
    },
  )
}

export function log(line = ''): void {
  process.stdout.write(`${line}\n`)
}

/** The command line: `--help` and any malformed flag end in the usage. */
export function parseCommandLine<O extends ParseArgsOptionsConfig>(options: O) {
  let parsed: ReturnType<typeof parseArgs<{ options: O; allowPositionals: true; strict: true }>>
  try {
    parsed = parseArgs({
      args: process.argv.slice(2),
      allowPositionals: true,
      strict: true,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
    }) as typeof parsed
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  if ((parsed.values as { help?: boolean }).help) throw new UsageError('')
  return parsed
}
