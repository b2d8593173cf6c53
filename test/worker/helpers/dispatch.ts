/**
 * XRPC requests through the dispatcher with settings that differ from the test pool's (which
 * are fixed per run in vitest.config.ts): e.g. invites required, or responses not validated;
 * and, traced, with the round trips each request made (bench/worker/instrument.ts).
 */
import { env } from 'cloudflare:test'
import type { Hop } from '../../../bench/hop-trace.ts'
import { instrumentEnv, takeTrace } from '../../../bench/worker/instrument.ts'
import { type Config, type ConfigEnv, readConfig } from '../../../src/config.ts'
import { openRequestSessions } from '../../../src/db/session.ts'
import { dispatchXrpc } from '../../../src/xrpc/dispatch.ts'
import { toErrorResponse } from '../../../src/xrpc/errors.ts'
import { dispatchDeps } from '../../../worker/dispatch-deps.ts'

export type Dispatch = (nsid: string, init?: RequestInit, query?: string) => Promise<Response>

export type TracedDispatch = (
  nsid: string,
  init?: RequestInit,
  query?: string,
) => Promise<{ res: Response; hops: Hop[] }>

export function dispatcherWith(overrides: ConfigEnv): Dispatch {
  const config = configWith(overrides)
  return (nsid, init, query = '') => dispatch(env, config, nsid, init, query)
}

/**
 * As dispatcherWith, on the Worker's bindings as the bench build sees them; each answer comes
 * with the round trips the Worker made for it (not those of what it waited for afterwards).
 */
export function tracedDispatcherWith(overrides: ConfigEnv): TracedDispatch {
  const config = configWith(overrides)
  const traced = instrumentEnv(env, 'worker')
  return async (nsid, init, query = '') => {
    let hops: Hop[] = []
    takeTrace()
    const res = await dispatch(traced, config, nsid, init, query, () => {
      hops = takeTrace().hops.filter((hop) => hop.from === 'worker')
    })
    return { res, hops }
  }
}

function configWith(overrides: ConfigEnv): Config {
  return readConfig({ ...(env as unknown as ConfigEnv), ...overrides })
}

async function dispatch(
  bindings: Env,
  config: Config,
  nsid: string,
  init: RequestInit | undefined,
  query: string,
  answered: () => void = () => {},
): Promise<Response> {
  const request = new Request(`http://localhost:2583/xrpc/${nsid}${query}`, init)
  const pending: Promise<unknown>[] = []
  let res: Response
  try {
    res = await dispatchXrpc(
      nsid,
      request,
      dispatchDeps(
        bindings,
        config,
        (promise) => pending.push(promise),
        openRequestSessions(bindings.DB, request),
      ),
    )
  } catch (err) {
    res = toErrorResponse(err)
  }
  answered()
  await Promise.all(pending)
  return res
}
