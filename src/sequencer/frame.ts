/**
 * Event stream frames [spec:event-stream]: the DAG-CBOR header `{op: 1, t}` followed by the
 * DAG-CBOR body, in one binary WebSocket message. The log stores bodies without `seq`; the
 * frame adds it.
 */
import { decodeCbor, encodeCbor } from '../data/cbor.ts'
import type { SequencedEvent } from './event-log.ts'

export function encodeEventFrame(event: Pick<SequencedEvent, 'seq' | 'type' | 'body'>): Uint8Array {
  const header = encodeCbor({ op: 1, t: event.type })
  const body = encodeCbor({ ...decodeCbor<Record<string, unknown>>(event.body), seq: event.seq })
  const out = new Uint8Array(header.length + body.length)
  out.set(header, 0)
  out.set(body, header.length)
  return out
}
