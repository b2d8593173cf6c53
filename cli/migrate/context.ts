/**
 * What every step shares: the two PDSes (each signed in on first use), the state and its
 * folder, and the lines the final summary prints.
 */
import { askSecret } from '../client/secret-prompt.ts'
import { signIn } from '../client/sign-in.ts'
import { type Session, XrpcClient } from '../client/xrpc.ts'
import type { MigrateArgs } from './args.ts'
import { MigrateError } from './errors.ts'
import type { MigrationState, StateStore, Step } from './state.ts'

export interface Context {
  args: MigrateArgs
  state: MigrationState
  store: StateStore
  old: XrpcClient
  next: XrpcClient
  /** Signs in at the old PDS (once per run). */
  oldSession(): Promise<Session>
  /** Signs in at the new PDS, unless createAccount already gave a session. */
  newSession(): Promise<Session>
  /** The password for the new account: MIGRATE_NEW_PASSWORD, asked, or the old one. */
  newPassword(): Promise<string>
  finish(step: Step): void
  log(line: string): void
  summary: string[]
}

export function createContext(
  args: MigrateArgs,
  state: MigrationState,
  store: StateStore,
  old: XrpcClient,
  env: NodeJS.ProcessEnv,
): Context {
  const next = new XrpcClient(state.newPds, 'the new PDS')
  let oldPassword: string | null = null
  let newPassword: string | null = null
  const askOldPassword = async (): Promise<string> => {
    oldPassword ??=
      env.MIGRATE_OLD_PASSWORD ||
      (await askRequired(`Password for ${state.handle} at ${state.oldPds}: `))
    return oldPassword
  }
  const ctx: Context = {
    args,
    state,
    store,
    old,
    next,
    async oldSession() {
      if (old.session) return old.session
      return signIn(old, state.did, await askOldPassword(), 'MIGRATE_OLD_PASSWORD')
    },
    async newSession() {
      if (next.session) return next.session
      return signIn(next, state.did, await ctx.newPassword(), 'MIGRATE_NEW_PASSWORD')
    },
    async newPassword() {
      if (newPassword) return newPassword
      if (env.MIGRATE_NEW_PASSWORD) newPassword = env.MIGRATE_NEW_PASSWORD
      else if (process.stdin.isTTY) {
        const answer = await askSecret(
          `Password for the account at ${state.newPds} (Enter: the same as at the old PDS): `,
        )
        newPassword = answer || (await askOldPassword())
      } else newPassword = await askOldPassword()
      return newPassword
    },
    finish(step) {
      state.finished[step] = new Date().toISOString()
      store.save(state)
    },
    log(line) {
      process.stdout.write(`${line}\n`)
    },
    summary: [],
  }
  return ctx
}

async function askRequired(question: string): Promise<string> {
  const answer = await askSecret(question)
  if (!answer) throw new MigrateError('no password given')
  return answer
}
