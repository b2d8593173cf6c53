/**
 * Every XRPC method this PDS serves itself. Anything else is proxied (or 501).
 * One file per method, named after it, under `com/atproto/...` and `app/bsky/...`.
 */
import { createRegistry, type MethodRegistry } from '../xrpc/dispatch.ts'
import { resolveHandle } from './com/atproto/identity/resolveHandle.ts'
import { updateHandle } from './com/atproto/identity/updateHandle.ts'
import { createAccount } from './com/atproto/server/createAccount.ts'
import { createSession } from './com/atproto/server/createSession.ts'
import { deleteSession } from './com/atproto/server/deleteSession.ts'
import { describeServer } from './com/atproto/server/describeServer.ts'
import { getSession } from './com/atproto/server/getSession.ts'
import { refreshSession } from './com/atproto/server/refreshSession.ts'

export function buildRegistry(): MethodRegistry {
  return createRegistry([
    // com.atproto.server
    createAccount,
    createSession,
    deleteSession,
    describeServer,
    getSession,
    refreshSession,
    // com.atproto.identity
    resolveHandle,
    updateHandle,
  ])
}
