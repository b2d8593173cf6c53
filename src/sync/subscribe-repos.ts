/**
 * `com.atproto.sync.subscribeRepos` at the HTTP level: a GET with `Upgrade: websocket`,
 * checked here and handed to the sequencer Durable Object, which holds the WebSockets.
 * HTTP errors as the event-stream spec gives them: 405 for other verbs, 426 without the
 * upgrade, 400 for a malformed cursor.
 */
import { sequencerStub } from '../bindings.ts'
import { toErrorResponse, XrpcError } from '../xrpc/errors.ts'

/**
 * The `cursor` parameter: null when absent, undefined when malformed (not a non-negative
 * integer below 2^53).
 */
export function parseCursor(raw: string | null): number | null | undefined {
  if (raw === null) return null
  if (!/^\d{1,16}$/.test(raw)) return undefined
  const cursor = Number(raw)
  return Number.isSafeInteger(cursor) ? cursor : undefined
}

export async function serveSubscribeRepos(request: Request, env: Env): Promise<Response> {
  if (request.method !== 'GET') {
    return withHeader(
      toErrorResponse(
        new XrpcError(405, 'InvalidRequest', 'subscribeRepos is a WebSocket subscription: use GET'),
      ),
      'Allow',
      'GET',
    )
  }
  if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') {
    return withHeader(
      toErrorResponse(
        new XrpcError(426, 'InvalidRequest', 'subscribeRepos needs a WebSocket upgrade'),
      ),
      'Upgrade',
      'websocket',
    )
  }
  const cursor = parseCursor(new URL(request.url).searchParams.get('cursor'))
  if (cursor === undefined) {
    return toErrorResponse(
      new XrpcError(400, 'InvalidRequest', 'cursor must be a non-negative integer'),
    )
  }
  return sequencerStub(env).fetch(request)
}

function withHeader(response: Response, name: string, value: string): Response {
  response.headers.set(name, value)
  return response
}
