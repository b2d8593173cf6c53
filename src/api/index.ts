/**
 * Every XRPC method this PDS serves itself. Anything else is proxied (or 501).
 * One file per method, named after it, under `com/atproto/...` and `app/bsky/...`.
 */
import { createRegistry, type MethodRegistry } from '../xrpc/dispatch.ts'
import { describeServer } from './com/atproto/server/describeServer.ts'

export function buildRegistry(): MethodRegistry {
  return createRegistry([describeServer])
}
