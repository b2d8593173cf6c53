/**
 * Event stream frames [spec:event-stream]: a DAG-CBOR header followed by a DAG-CBOR body, in
 * one binary WebSocket message. Messages are `{op: 1, t: "#commit"}` + body; errors are
 * `{op: -1}` + `{error, message?}`.
 *
 * The log stores message bodies without `seq`. Adding it would mean decoding and re-encoding
 * every body (a commit carries a CAR of up to 2 MB) on every send; instead the `seq` entry is
 * spliced into the encoded top-level map at its canonical position (keys sort by length, then
 * bytewise), so a frame costs one scan over the body's top-level keys.
 */
import { concatBytes } from '../data/bytes.ts'
import { decodeCbor, encodeCbor } from '../data/cbor.ts'
import { encodeHead, readHead, skipItem } from '../data/cbor-scan.ts'
import type { SequencedEvent } from './event-log.ts'

export class FrameError extends Error {
  override name = 'FrameError'
}

const SEQ_KEY = new Uint8Array([0x63, 0x73, 0x65, 0x71]) // text(3) "seq"
const headerCache = new Map<string, Uint8Array>()

export function encodeEventFrame(event: Pick<SequencedEvent, 'seq' | 'type' | 'body'>): Uint8Array {
  let header = headerCache.get(event.type)
  if (!header) {
    header = encodeCbor({ op: 1, t: event.type })
    headerCache.set(event.type, header)
  }
  return concatBytes([header, bodyWithSeq(event.body, event.seq)])
}

/** `#info` (e.g. `OutdatedCursor`); it has no `seq`. */
export function encodeInfoFrame(name: string, message?: string): Uint8Array {
  const body: Record<string, unknown> = { name }
  if (message !== undefined) body.message = message
  return concatBytes([encodeCbor({ op: 1, t: '#info' }), encodeCbor(body)])
}

/** An error frame; the server closes the connection right after it. */
export function encodeErrorFrame(error: string, message?: string): Uint8Array {
  const body: Record<string, unknown> = { error }
  if (message !== undefined) body.message = message
  return concatBytes([encodeCbor({ op: -1 }), encodeCbor(body)])
}

/** The body map with a `seq` entry added; falls back to a full re-encode for odd inputs. */
export function bodyWithSeq(body: Uint8Array, seq: number): Uint8Array {
  if (!Number.isSafeInteger(seq) || seq < 0) throw new FrameError(`bad seq ${seq}`)
  const spliced = spliceSeq(body, seq)
  if (spliced) return spliced
  const decoded = decodeCbor<unknown>(body)
  if (typeof decoded !== 'object' || decoded === null || Array.isArray(decoded)) {
    throw new FrameError('event body is not a map')
  }
  return encodeCbor({ ...(decoded as Record<string, unknown>), seq })
}

function spliceSeq(body: Uint8Array, seq: number): Uint8Array | null {
  if (body.length === 0 || body[0]! >> 5 !== 5) return null
  const head = readHead(body, 0)
  if (!head || head.indefinite) return null
  const count = head.value
  let pos = head.next
  let insertAt = -1
  for (let i = 0; i < count; i++) {
    const keyStart = pos
    const key = readHead(body, pos)
    if (key?.major !== 3 || key.indefinite) return null
    const keyEnd = key.next + key.value
    if (insertAt < 0) {
      const order = compareKey(body, key.next, keyEnd)
      if (order === 0) return null // already has a seq: let the slow path replace it
      if (order > 0) insertAt = keyStart
    }
    const valueEnd = skipItem(body, keyEnd)
    if (valueEnd < 0) return null
    pos = valueEnd
  }
  if (pos !== body.length) return null
  if (insertAt < 0) insertAt = pos
  const mapHead = encodeHead(5, count + 1)
  const seqValue = encodeHead(0, seq)
  return concatBytes([
    mapHead,
    body.subarray(head.next, insertAt),
    SEQ_KEY,
    seqValue,
    body.subarray(insertAt),
  ])
}

/** Canonical order of `key` relative to "seq": negative if it sorts first. */
function compareKey(bytes: Uint8Array, start: number, end: number): number {
  const length = end - start
  if (length !== 3) return length - 3
  for (let i = 0; i < 3; i++) {
    const diff = bytes[start + i]! - SEQ_KEY[i + 1]!
    if (diff !== 0) return diff
  }
  return 0
}

export type DecodedFrame = {
  header: { op: number; t?: string }
  body: Record<string, unknown>
}

/** Splits a frame into its two DAG-CBOR values (for consumers and tests). */
export function decodeFrame(frame: Uint8Array): DecodedFrame {
  const end = skipItem(frame, 0)
  if (end <= 0 || end >= frame.length) throw new FrameError('not a header followed by a body')
  return {
    header: decodeCbor<DecodedFrame['header']>(frame.subarray(0, end)),
    body: decodeCbor<Record<string, unknown>>(frame.subarray(end)),
  }
}
