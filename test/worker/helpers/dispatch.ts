/**
 * XRPC requests through the dispatcher with settings that differ from the test pool's (which
 * are fixed per run in vitest.config.ts): e.g. invites required, or responses not validated.
 */
import { env } from 'cloudflare:test'
import { type ConfigEnv, readConfig } from '../../../src/config.ts'
import { openRequestSessions } from '../../../src/db/session.ts'
import { dispatchXrpc } from '../../../src/xrpc/dispatch.ts'
import { toErrorResponse } from '../../../src/xrpc/errors.ts'
import { dispatchDeps } from '../../../worker/dispatch-deps.ts'

export type Dispatch = (nsid: string, init?: RequestInit, query?: string) => Promise<Response>

export function dispatcherWith(overrides: ConfigEnv): Dispatch {
  const config = readConfig({ ...(env as unknown as ConfigEnv), ...overrides })
  return async (nsid, init, query = '') => {
    const request = new Request(`http://localhost:2583/xrpc/${nsid}${query}`, init)
    const pending: Promise<unknown>[] = []
    let res: Response
    try {
      res = await dispatchXrpc(
        nsid,
        request,
        dispatchDeps(
          env,
          config,
          (promise) => pending.push(promise),
          openRequestSessions(env.DB, request),
        ),
      )
    } catch (err) {
      res = toErrorResponse(err)
    }
    await Promise.all(pending)
    return res
  }
}
