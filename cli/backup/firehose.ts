/**
 * A `com.atproto.sync.subscribeRepos` connection as an async sequence of decoded frames
 * (header + body, DAG-CBOR, decoded with the PDS's own frame code). Frames arriving while the
 * consumer is busy wait in memory, in order. The sequence ends when the connection closes, and
 * throws when it fails or a frame cannot be decoded; the caller reconnects from its cursor.
 */
import { type DecodedFrame, decodeFrame } from '../../src/sequencer/frame.ts'

/** `https://pds.example` or `wss://relay.example` → its subscribeRepos URL, with the cursor. */
export function subscribeReposUrl(service: string, cursor: number | null): URL {
  const url = new URL('/xrpc/com.atproto.sync.subscribeRepos', service)
  url.protocol = url.protocol === 'https:' || url.protocol === 'wss:' ? 'wss:' : 'ws:'
  if (cursor !== null) url.searchParams.set('cursor', String(cursor))
  return url
}

export interface Subscription {
  /** Resolves once the connection is open (rejects if it never opens). */
  opened: Promise<void>
  frames: AsyncGenerator<DecodedFrame, void, undefined>
  close(): void
}

export function subscribeRepos(url: URL): Subscription {
  const socket = new WebSocket(url)
  socket.binaryType = 'arraybuffer'
  const queue: DecodedFrame[] = []
  let failure: Error | null = null
  let closed = false
  let wake: (() => void) | null = null
  const notify = () => {
    wake?.()
    wake = null
  }
  const opened = new Promise<void>((resolve, reject) => {
    socket.addEventListener('open', () => resolve())
    socket.addEventListener('close', () => reject(failure ?? new Error(`${url.origin} closed`)))
  })
  opened.catch(() => {})
  socket.addEventListener('message', (event) => {
    if (!(event.data instanceof ArrayBuffer)) return
    try {
      queue.push(decodeFrame(new Uint8Array(event.data)))
    } catch (err) {
      failure = new Error(`an undecodable frame from ${url.origin}: ${(err as Error).message}`)
      socket.close()
    }
    notify()
  })
  socket.addEventListener('error', () => {
    failure ??= new Error(`the firehose at ${url.origin} failed`)
  })
  socket.addEventListener('close', () => {
    closed = true
    notify()
  })

  async function* frames(): AsyncGenerator<DecodedFrame, void, undefined> {
    try {
      while (true) {
        const next = queue.shift()
        if (next) {
          yield next
          continue
        }
        if (closed) break
        await new Promise<void>((resolve) => {
          wake = resolve
        })
      }
    } finally {
      socket.close()
    }
    if (failure) throw failure
  }
  // Ends the frames at once: a server that never completes the closing handshake must not
  // keep a stopping follower waiting.
  const close = () => {
    closed = true
    queue.length = 0
    socket.close()
    notify()
  }
  return { opened, frames: frames(), close }
}
