/**
 * `npm run migrate`: moves an account from one PDS to another, one step at a time, each
 * recorded in a state folder so that running the same command again continues where an
 * interrupted run stopped. See README.md, "Move an account".
 */

import { expectedFailure } from '../client/errors.ts'
import { formatBytes } from '../client/progress.ts'
import { askSecret } from '../client/secret-prompt.ts'
import { XrpcClient } from '../client/xrpc.ts'
import { parseMigrateArgs, USAGE, UsageError } from './args.ts'
import { type Context, createContext } from './context.ts'
import { dryRun } from './dry-run.ts'
import { MigrateError } from './errors.ts'
import { startMigration } from './start.ts'
import { nextStep, STEPS, type Step } from './state.ts'
import { activateNew, deactivateOld } from './steps/activate.ts'
import { transferBlobs } from './steps/blobs.ts'
import { catchUp } from './steps/catch-up.ts'
import { createAccount } from './steps/create-account.ts'
import { exportRepo } from './steps/export-repo.ts'
import { importRepo } from './steps/import-repo.ts'
import { signPlcOperation } from './steps/plc-sign.ts'
import { submitPlcOperation } from './steps/plc-submit.ts'
import { copyPreferences } from './steps/preferences.ts'
import { verifyMigration } from './steps/verify.ts'

const RUN: Record<Step, (ctx: Context) => Promise<void>> = {
  'create-account': createAccount,
  'export-repo': exportRepo,
  'import-repo': importRepo,
  blobs: async (ctx) => {
    ctx.state.blobs = await transferBlobs(ctx)
  },
  preferences: copyPreferences,
  'catch-up': catchUp,
  'plc-sign': signPlcOperation,
  'plc-submit': submitPlcOperation,
  activate: activateNew,
  'deactivate-old': deactivateOld,
  verify: verifyMigration,
}

/** Whether this run has a state folder to continue from (for the failure message). */
let saved = false

async function main(): Promise<number> {
  const args = parseMigrateArgs(process.argv.slice(2), process.env)
  const { state, store, resumed } = await startMigration(args)
  const old = new XrpcClient(state.oldPds, 'the old PDS')
  const ctx = createContext(args, state, store, old, process.env)
  if (args.dryRun) {
    await dryRun(ctx)
    return 0
  }
  const first = nextStep(state)
  if (first === null) {
    ctx.log(`${state.did} was already moved to ${state.newPds} (see ${store.dir}).`)
    return 0
  }
  ctx.log(
    resumed
      ? `Continuing the migration of ${state.handle} (${state.did}) at step "${first}".`
      : `Moving ${state.handle} (${state.did}) from ${state.oldPds} to ${state.newPds}.`,
  )
  ctx.log(`Progress is kept in ${store.dir}.`)
  if (!resumed && process.stdin.isTTY && !args.yes) {
    const answer = await askSecret('Type "yes" to start: ')
    if (answer.toLowerCase() !== 'yes') throw new MigrateError('not started')
  }
  store.save(state)
  saved = true
  const started = Date.now()
  onInterrupt(() => {
    const step = nextStep(state)
    process.stderr.write(
      `\nInterrupted${step ? ` during "${step}"` : ''}. Progress is saved in ${store.dir}: ` +
        'run the same command again to continue.\n',
    )
  })
  for (const step of STEPS) {
    if (state.finished[step]) continue
    ctx.log(`\n[${STEPS.indexOf(step) + 1}/${STEPS.length}] ${step}`)
    await RUN[step](ctx)
    ctx.finish(step)
  }
  printSummary(ctx, Date.now() - started)
  return 0
}

function printSummary(ctx: Context, elapsedMs: number): void {
  const { state } = ctx
  const lines = [
    '',
    `Done in ${(elapsedMs / 1000).toFixed(1)} s: ${state.handle} (${state.did}) now lives on ${state.newPds}.`,
    `  repo: ${formatBytes(state.exported?.bytes ?? 0)} at rev ${state.exported?.rev}`,
    `  blobs: ${state.blobs?.transferred ?? 0} copied (${formatBytes(state.blobs?.bytes ?? 0)})` +
      (state.blobs?.missingAtSource.length
        ? `, ${state.blobs.missingAtSource.length} were missing on the old PDS`
        : ''),
    `  preferences: ${state.preferences?.count ?? 0}`,
    ...ctx.summary.map((line) => `  ${line}`),
    `The old account on ${state.oldPds} is deactivated, not deleted. ${ctx.store.dir} can be removed.`,
  ]
  ctx.log(lines.join('\n'))
}

function onInterrupt(report: () => void): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      report()
      process.exit(130)
    })
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(err.message ? `error: ${err.message}\n\n${USAGE}\n` : `${USAGE}\n`)
      process.exit(err.message ? 2 : 0)
    }
    const message = expectedFailure(err)
    if (message !== null) {
      process.stderr.write(`\nerror: ${message}\n`)
    } else {
      process.stderr.write(`\nunexpected error: ${(err as Error)?.stack ?? String(err)}\n`)
    }
    if (saved) {
      process.stderr.write('Progress so far is saved: run the same command again to continue.\n')
    }
    process.exit(1)
  },
)
