/**
 * Where a migration starts: which DID, from which PDS, to which. A state folder from an
 * earlier run wins over resolving again (after the PLC step the DID already names the new PDS).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { isUrl, pdsEndpoint, resolveDidDocument, resolveHandle } from '../client/identity.ts'
import { XrpcClient, XrpcError } from '../client/xrpc.ts'
import type { MigrateArgs } from './args.ts'
import { MigrateError } from './errors.ts'
import { type MigrationState, StateStore } from './state.ts'

export interface Start {
  state: MigrationState
  store: StateStore
  /** True when the state comes from an earlier run. */
  resumed: boolean
}

export async function startMigration(args: MigrateArgs): Promise<Start> {
  const did = await findDid(args)
  const store = new StateStore(args.stateDir, did)
  // A finished migration elsewhere does not hold up a new one (moving back, say).
  const earlier = store.exists() ? store.load() : null
  if (earlier && !(earlier.finished.verify && earlier.newPds !== args.to)) {
    const state = earlier
    if (state.newPds !== args.to) {
      throw new MigrateError(
        `${store.dir} holds a migration of ${did} to ${state.newPds}, not ${args.to}; ` +
          'finish it, or delete that folder to start over',
      )
    }
    return { state, store, resumed: true }
  }

  const doc = await resolveDidDocument(did, args.plcUrl)
  const oldPds = isUrl(args.from) ? args.from.replace(/\/+$/, '') : pdsEndpoint(doc)
  if (!oldPds) throw new MigrateError(`the DID document of ${did} names no PDS`)
  if (new URL(oldPds).origin === args.to) {
    throw new MigrateError(`${did} is already on ${args.to}`)
  }
  const handle =
    args.newHandle ?? doc.alsoKnownAs?.find((a) => a.startsWith('at://'))?.slice(5) ?? null
  if (!handle) throw new MigrateError(`${did} has no handle: give one with --new-handle`)
  const server = await new XrpcClient(args.to, 'the new PDS').query<{ did: string }>(
    'com.atproto.server.describeServer',
    { auth: 'none' },
  )
  const state: MigrationState = {
    version: 1,
    did,
    oldPds: new URL(oldPds).origin,
    newPds: args.to,
    newPdsDid: server.did,
    handle,
    startedAt: new Date().toISOString(),
    finished: {},
  }
  return { state, store, resumed: false }
}

async function findDid(args: MigrateArgs): Promise<string> {
  if (!isUrl(args.from)) {
    return args.from.startsWith('did:') ? args.from : resolveHandle(args.from)
  }
  const account = args.account
  if (!account) throw new MigrateError('--from is a PDS URL: name the account with --account')
  if (account.startsWith('did:')) return account
  const handle = account.replace(/^@/, '').toLowerCase()
  const earlier = earlierRun(args.stateDir, handle)
  if (earlier) return earlier
  try {
    const out = await new XrpcClient(args.from, 'the old PDS').query<{ did: string }>(
      'com.atproto.identity.resolveHandle',
      { params: { handle }, auth: 'none' },
    )
    return out.did
  } catch (err) {
    if (err instanceof XrpcError) {
      throw new MigrateError(
        `${args.from} does not know the handle ${handle} (${err.message}); give the DID with --account`,
      )
    }
    throw err
  }
}

/** A migration of this handle already under way in the state folder. */
function earlierRun(root: string, handle: string): string | null {
  if (!existsSync(root)) return null
  for (const entry of readdirSync(root)) {
    const file = join(root, entry, 'state.json')
    if (!existsSync(file)) continue
    const state = JSON.parse(readFileSync(file, 'utf8')) as MigrationState
    if (state.handle === handle) return state.did
  }
  return null
}
