/**
 * A PDS's firehose recorded and served again from loopback, with one event altered: what a
 * compromised or buggy host (or a relay in between) could send. The recording is a plain
 * subscribeRepos client; the stand-in is a minimal WebSocket server (RFC 6455 handshake and
 * unmasked binary frames, all a firehose sends) that answers `?cursor=N` with the recorded
 * frames after N and then stays open, as a live firehose does.
 */
import { createHash } from 'node:crypto'
import { createServer, type IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import { concatBytes } from '../../src/data/bytes.ts'
import { encodeCbor } from '../../src/data/cbor.ts'
import { CID } from '../../src/data/cid.ts'
import { encodeCarBytes, readCar } from '../../src/repo/car.ts'
import { commitToBlock, parseCommit } from '../../src/repo/commit.ts'
import { type DecodedFrame, decodeFrame } from '../../src/sequencer/frame.ts'

export interface RecordedFrame extends DecodedFrame {
  seq: number
  bytes: Uint8Array
}

/** Every frame from the start of the PDS's log until `until` returns true for one. */
export async function recordFirehose(
  pdsUrl: string,
  until: (frame: RecordedFrame) => boolean,
  timeoutMs = 20_000,
): Promise<RecordedFrame[]> {
  const socket = new WebSocket(
    `${pdsUrl.replace(/^http/, 'ws')}/xrpc/com.atproto.sync.subscribeRepos?cursor=0`,
  )
  socket.binaryType = 'arraybuffer'
  const frames: RecordedFrame[] = []
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the recording timed out')), timeoutMs)
      socket.addEventListener('message', (event) => {
        const bytes = new Uint8Array(event.data as ArrayBuffer)
        const decoded = decodeFrame(bytes)
        const frame = { ...decoded, seq: Number(decoded.body.seq), bytes }
        frames.push(frame)
        if (until(frame)) {
          clearTimeout(timer)
          resolve()
        }
      })
      socket.addEventListener('close', () => reject(new Error('the firehose closed')))
    })
  } finally {
    socket.close()
  }
  return frames
}

/** The frame with its commit re-signed with one bit of the signature flipped. */
export async function withBadSignature(frame: RecordedFrame): Promise<RecordedFrame> {
  const body = { ...frame.body }
  const { blocks } = await readCar(body.blocks as Uint8Array)
  const oldCid = body.commit as CID
  const commit = parseCommit(blocks.get(oldCid.toString())!)
  const sig = commit.sig.slice()
  sig[10]! ^= 0x01
  const tampered = await commitToBlock({ ...commit, version: 3, sig })
  blocks.delete(oldCid.toString())
  blocks.set(tampered.cid.toString(), tampered.bytes)
  body.commit = tampered.cid
  body.blocks = await encodeCarBytes(
    tampered.cid,
    [...blocks].map(([key, bytes]) => ({ cid: CID.parse(key), bytes })),
  )
  return reencoded(frame, body)
}

/** The frame with `prevData` naming another tree (the commit's own). */
export function withBrokenPrevData(frame: RecordedFrame): RecordedFrame {
  return reencoded(frame, { ...frame.body, prevData: frame.body.commit })
}

function reencoded(frame: RecordedFrame, body: Record<string, unknown>): RecordedFrame {
  const bytes = concatBytes([encodeCbor(frame.header), encodeCbor(body)])
  return { header: frame.header, body, seq: frame.seq, bytes }
}

export interface FirehoseStandIn {
  url: string
  /** The cursors followers connected with, in order. */
  cursors: (number | null)[]
  close(): Promise<void>
}

export async function serveFirehose(frames: RecordedFrame[]): Promise<FirehoseStandIn> {
  const sockets = new Set<Socket>()
  const cursors: (number | null)[] = []
  const server = createServer((_req, res) => res.writeHead(426).end())
  server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => socket.destroy())
    // A client's close frame (opcode 8) is answered with one, and the connection ends.
    socket.on('data', (chunk: Buffer) => {
      if ((chunk[0]! & 0x0f) === 0x8) socket.end(Uint8Array.of(0x88, 0))
    })
    const key = req.headers['sec-websocket-key']
    const url = new URL(req.url ?? '/', 'http://stand-in')
    if (url.pathname !== '/xrpc/com.atproto.sync.subscribeRepos' || !key) {
      socket.end('HTTP/1.1 400 Bad Request\r\n\r\n')
      return
    }
    const raw = url.searchParams.get('cursor')
    const cursor = raw === null ? null : Number(raw)
    cursors.push(cursor)
    const accept = createHash('sha1')
      .update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
      .digest('base64')
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
    )
    // Without a cursor a firehose sends only what comes next: nothing, here.
    for (const frame of frames) {
      if (cursor !== null && frame.seq > cursor) socket.write(binaryFrame(frame.bytes))
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  return {
    url: `http://127.0.0.1:${port}`,
    cursors,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}

function binaryFrame(payload: Uint8Array): Uint8Array {
  const n = payload.length
  const head =
    n < 126
      ? Uint8Array.of(0x82, n)
      : n < 0x10000
        ? Uint8Array.of(0x82, 126, n >> 8, n & 0xff)
        : Uint8Array.of(
            0x82,
            127,
            0,
            0,
            0,
            0,
            (n >>> 24) & 0xff,
            (n >> 16) & 0xff,
            (n >> 8) & 0xff,
            n & 0xff,
          )
  return concatBytes([head, payload])
}
