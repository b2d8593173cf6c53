/**
 * A stand-in atproto service on loopback for the end-to-end tests: a small HTTP server with a
 * `did:web:localhost%3A<port>` identity (its `/.well-known/did.json` lists the service ids it
 * answers as) and a few XRPC methods. Every call it receives is echoed back in the response
 * (`received`), so a test in another process can check what the PDS forwarded.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ReceivedRequest {
  method: string
  path: string
  query: Record<string, string>
  headers: Record<string, string>
  body: string
}

export interface StandInReply {
  status?: number
  body?: unknown
  headers?: Record<string, string>
  /** Milliseconds to wait before answering (timeouts). */
  delayMs?: number
}

export type StandInRoute = (request: ReceivedRequest) => StandInReply

export interface StandInOptions {
  /** Service ids and types for the DID document, e.g. `{id: 'bsky_appview', type: 'BskyAppView'}`. */
  services: Array<{ id: string; type: string; endpoint?: string }>
  /** Replies by NSID. */
  routes?: Record<string, StandInRoute>
  /** The reply for other methods; `echo()` by default, null for 501. */
  otherwise?: StandInRoute | null
  port?: number
}

export interface StandInService {
  url: string
  did: string
  port: number
  received: ReceivedRequest[]
  close(): Promise<void>
}

/** Answers `{...extra, received}`, so that the caller sees what arrived. */
export const echo =
  (extra: Record<string, unknown> = {}): StandInRoute =>
  (request) => ({ body: { ...extra, received: request } })

export async function startStandInService(opts: StandInOptions): Promise<StandInService> {
  const received: ReceivedRequest[] = []
  let did = ''
  let url = ''
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const parsed = new URL(req.url ?? '/', 'http://localhost')
    if (parsed.pathname === '/.well-known/did.json') {
      return reply(res, {
        body: {
          '@context': ['https://www.w3.org/ns/did/v1'],
          id: did,
          service: opts.services.map((s) => ({
            id: `#${s.id}`,
            type: s.type,
            serviceEndpoint: s.endpoint ?? url,
          })),
        },
      })
    }
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const request: ReceivedRequest = {
      method: req.method ?? 'GET',
      path: parsed.pathname,
      query: Object.fromEntries(parsed.searchParams),
      headers: Object.fromEntries(
        Object.entries(req.headers).map(([k, v]) => [
          k,
          Array.isArray(v) ? v.join(', ') : (v ?? ''),
        ]),
      ),
      body: Buffer.concat(chunks).toString('utf8'),
    }
    received.push(request)
    const nsid = parsed.pathname.startsWith('/xrpc/') ? parsed.pathname.slice(6) : ''
    const route = opts.routes?.[nsid] ?? (opts.otherwise === undefined ? echo() : opts.otherwise)
    const answer = route
      ? route(request)
      : { status: 501, body: { error: 'MethodNotImplemented', message: `stand-in: ${nsid}` } }
    if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs))
    reply(res, answer)
  }

  const servers: Server[] = []
  const listen = (host: string, port: number) =>
    new Promise<Server>((resolve, reject) => {
      const server = createServer((req, res) => {
        handle(req, res).catch((err) => {
          res.statusCode = 500
          res.end(String(err))
        })
      })
      server.once('error', reject)
      server.listen(port, host, () => resolve(server))
    })
  const first = await listen('127.0.0.1', opts.port ?? 0)
  servers.push(first)
  const port = (first.address() as AddressInfo).port
  // workerd may try ::1 for "localhost" first, as the PLC directory script allows for.
  try {
    servers.push(await listen('::1', port))
  } catch {
    // no IPv6 loopback here
  }
  url = `http://localhost:${port}`
  did = `did:web:localhost%3A${port}`
  return {
    url,
    did,
    port,
    received,
    close: async () => {
      await Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.closeAllConnections()
              server.close(() => resolve())
            }),
        ),
      )
    },
  }
}

function reply(res: ServerResponse, answer: StandInReply): void {
  res.statusCode = answer.status ?? 200
  for (const [name, value] of Object.entries(answer.headers ?? {})) res.setHeader(name, value)
  if (answer.body === undefined) {
    res.end()
    return
  }
  if (typeof answer.body === 'string') {
    res.end(answer.body)
    return
  }
  if (!res.hasHeader('content-type')) res.setHeader('content-type', 'application/json')
  res.end(JSON.stringify(answer.body))
}
