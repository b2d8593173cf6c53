/**
 * Block encoding of MST nodes: `{e: [{k, p, t, v}], l}` in DAG-CBOR.
 *
 * @NOTE The encoder is hand-written for this one fixed shape: node encoding is on the path of
 * every write, and a generic encoder spends most of its time sorting map keys and sizing
 * values. The output is the canonical DAG-CBOR (`e` before `l`; `k`, `p`, `t`, `v`), with `l`
 * and `t` always written, as null when absent, as the reference implementation does.
 */

import { Digest } from 'multiformats/hashes/digest'
import { decodeCbor } from '../../data/cbor.ts'
import { CID, DAG_CBOR_CODEC, isBlessedCid, RAW_CODEC, SHA2_256_CODE } from '../../data/cid.ts'
import { InvalidMstNodeError } from './errors.ts'
import { isValidMstKey, keyHeight } from './key.ts'
import { MstNode, type NodeData } from './node.ts'

const NULL = 0xf6
const KEY_E = 0x65
const KEY_L = 0x6c
const KEY_K = 0x6b
const KEY_P = 0x70
const KEY_T = 0x74
const KEY_V = 0x76

function headerSize(n: number): number {
  return n < 24 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5
}

function cidSize(cid: CID): number {
  const n = cid.bytes.length + 1
  return 2 + headerSize(n) + n
}

/** Encodes a node whose children all have their CID computed. */
export function encodeNodeData(data: NodeData): Uint8Array {
  const { keys, values, children } = data
  const n = keys.length
  const prefixes = new Array<number>(n)
  let size = 1 + 2 + headerSize(n) + 2
  const left = children[0]
  size += left ? cidSize(childCid(left)) : 1
  let prev = ''
  for (let i = 0; i < n; i++) {
    const key = keys[i]!
    const p = sharedPrefix(prev, key)
    prefixes[i] = p
    const suffix = key.length - p
    const right = children[i + 1]
    size += 1 + 2 + headerSize(suffix) + suffix + 2 + headerSize(p) + 2
    size += right ? cidSize(childCid(right)) : 1
    size += 2 + cidSize(values[i]!)
    prev = key
  }

  const w = new Writer(size)
  const out = w.out
  out[w.pos++] = 0xa2
  w.mapKey(KEY_E)
  w.header(4, n)
  for (let i = 0; i < n; i++) {
    const key = keys[i]!
    const p = prefixes[i]!
    out[w.pos++] = 0xa4
    w.mapKey(KEY_K)
    w.header(2, key.length - p)
    let pos = w.pos
    for (let j = p; j < key.length; j++) out[pos++] = key.charCodeAt(j)
    w.pos = pos
    w.mapKey(KEY_P)
    w.header(0, p)
    w.mapKey(KEY_T)
    w.link(children[i + 1]?.cid ?? null)
    w.mapKey(KEY_V)
    w.link(values[i]!)
  }
  w.mapKey(KEY_L)
  w.link(left?.cid ?? null)
  return out
}

class Writer {
  readonly out: Uint8Array
  pos = 0

  constructor(size: number) {
    this.out = new Uint8Array(size)
  }

  header(major: number, value: number): void {
    const out = this.out
    const m = major << 5
    if (value < 24) {
      out[this.pos++] = m | value
    } else if (value < 0x100) {
      out[this.pos++] = m | 24
      out[this.pos++] = value
    } else if (value < 0x10000) {
      out[this.pos++] = m | 25
      out[this.pos++] = value >> 8
      out[this.pos++] = value & 0xff
    } else {
      out[this.pos++] = m | 26
      out[this.pos++] = value >>> 24
      out[this.pos++] = (value >> 16) & 0xff
      out[this.pos++] = (value >> 8) & 0xff
      out[this.pos++] = value & 0xff
    }
  }

  mapKey(char: number): void {
    this.out[this.pos++] = 0x61
    this.out[this.pos++] = char
  }

  link(cid: CID | null): void {
    if (!cid) {
      this.out[this.pos++] = NULL
      return
    }
    const bytes = cid.bytes
    this.out[this.pos++] = 0xd8
    this.out[this.pos++] = 42
    this.header(2, bytes.length + 1)
    this.out[this.pos++] = 0
    this.out.set(bytes, this.pos)
    this.pos += bytes.length
  }
}

function childCid(child: MstNode): CID {
  if (!child.cid) throw new Error('child CID not computed before encoding')
  return child.cid
}

/** Keys in a node are validated ASCII, so UTF-16 units are bytes. */
function sharedPrefix(a: string, b: string): number {
  const n = Math.min(a.length, b.length)
  let i = 0
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++
  return i
}

export type DecodeContext = {
  /** Expected layer, or -1 for a root whose layer follows from its keys. */
  layer: number
  lo: string | null
  hi: string | null
  isRoot: boolean
}

export type DecodedNode = { layer: number; data: NodeData }

/** Collects entries as either parser reads them, rebuilding full keys from prefixes. */
class EntryList {
  readonly keys: string[] = []
  readonly values: CID[] = []
  readonly links: (CID | null)[] = [null]
  readonly cid: CID
  private prev = ''

  constructor(cid: CID) {
    this.cid = cid
  }

  invalid(why: string): InvalidMstNodeError {
    return new InvalidMstNodeError(`invalid MST node ${this.cid.toString()}: ${why}`)
  }

  add(p: number, k: Uint8Array, v: CID, t: CID | null): void {
    const prev = this.prev
    if (p > prev.length || (this.keys.length === 0 && p !== 0)) {
      throw this.invalid('bad prefix length')
    }
    let key = p === 0 ? '' : prev.slice(0, p)
    for (let j = 0; j < k.length; j++) {
      const byte = k[j]!
      if (byte >= 0x80) throw this.invalid('non-ASCII key')
      key += String.fromCharCode(byte)
    }
    if (!isValidMstKey(key)) throw this.invalid(`invalid key ${JSON.stringify(key)}`)
    if (this.keys.length > 0 && key <= prev) throw this.invalid('keys out of order')
    this.keys.push(key)
    this.values.push(v)
    this.links.push(t)
    this.prev = key
  }
}

/**
 * Decodes and checks a node block: valid keys, each of the node's height, strictly
 * ascending and within the bounds set by the parent; MST links blessed; no empty node but
 * the empty root, and a pruned top.
 */
export function decodeNodeBlock(bytes: Uint8Array, cid: CID, ctx: DecodeContext): DecodedNode {
  let list = new EntryList(cid)
  if (!readCanonical(bytes, list)) {
    list = new EntryList(cid)
    readGeneric(bytes, list)
  }
  const { keys, values, links } = list

  const n = keys.length
  let layer = ctx.layer
  if (n > 0) {
    if (ctx.lo !== null && keys[0]! <= ctx.lo) {
      throw list.invalid('key below the range its parent allows')
    }
    if (ctx.hi !== null && keys[n - 1]! >= ctx.hi) {
      throw list.invalid('key above the range its parent allows')
    }
    if (layer < 0) layer = keyHeight(keys[0]!)
    for (const key of keys) {
      if (keyHeight(key) !== layer) throw list.invalid(`key ${key} is not of height ${layer}`)
    }
  } else if (ctx.isRoot) {
    if (links[0]) throw list.invalid('root has no entries (top not pruned)')
    layer = 0
  } else if (!links[0]) {
    throw list.invalid('empty node (bottom not pruned)')
  }

  const children = new Array<MstNode | null>(n + 1)
  for (let i = 0; i <= n; i++) {
    const link = links[i] ?? null
    if (!link) {
      children[i] = null
      continue
    }
    if (!isBlessedCid(link) || link.code !== DAG_CBOR_CODEC) {
      throw list.invalid('subtree link is not a blessed dag-cbor CID')
    }
    if (layer === 0) throw list.invalid('node of height 0 has a subtree')
    const lo = i === 0 ? ctx.lo : keys[i - 1]!
    const hi = i === n ? ctx.hi : keys[i]!
    children[i] = MstNode.stub(link, layer - 1, lo, hi)
  }
  return { layer, data: { keys, values, children } }
}

/** Any DAG-CBOR encoding of a node; `l` and `t` may be missing (read as null). */
function readGeneric(bytes: Uint8Array, list: EntryList): void {
  let obj: unknown
  try {
    obj = decodeCbor(bytes)
  } catch (err) {
    throw list.invalid(`not DAG-CBOR (${(err as Error).message})`)
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    throw list.invalid('not a map')
  }
  const { e, l } = obj as { e?: unknown; l?: unknown }
  if (!Array.isArray(e)) throw list.invalid('`e` is not an array')
  for (const entry of e as unknown[]) {
    if (typeof entry !== 'object' || entry === null) throw list.invalid('entry is not a map')
    const { p, k, v, t } = entry as { p?: unknown; k?: unknown; v?: unknown; t?: unknown }
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 0) {
      throw list.invalid('bad prefix length')
    }
    if (!(k instanceof Uint8Array)) throw list.invalid('`k` is not bytes')
    const value = CID.asCID(v)
    if (!value) throw list.invalid('`v` is not a link')
    list.add(p, k, value, optionalLink(t, list))
  }
  list.links[0] = optionalLink(l, list)
}

function optionalLink(value: unknown, list: EntryList): CID | null {
  if (value === null || value === undefined) return null
  const cid = CID.asCID(value)
  if (!cid) throw list.invalid('subtree link is not a CID')
  return cid
}

/**
 * Fast path for the one canonical encoding this module writes. Returns false, with `list`
 * to be discarded, on anything else, which then goes through the generic decoder.
 */
function readCanonical(bytes: Uint8Array, list: EntryList): boolean {
  const r = new CanonicalReader(bytes)
  if (r.byte() !== 0xa2 || !r.mapKey(KEY_E)) return false
  const n = r.header(4)
  if (n < 0) return false
  for (let i = 0; i < n; i++) {
    if (r.byte() !== 0xa4 || !r.mapKey(KEY_K)) return false
    const klen = r.header(2)
    if (klen < 0 || r.pos + klen > bytes.length) return false
    const k = bytes.subarray(r.pos, r.pos + klen)
    r.pos += klen
    if (!r.mapKey(KEY_P)) return false
    const p = r.header(0)
    if (p < 0 || !r.mapKey(KEY_T)) return false
    const t = r.link()
    if (t === undefined || !r.mapKey(KEY_V)) return false
    const v = r.link()
    if (!v) return false
    list.add(p, k, v, t)
  }
  if (!r.mapKey(KEY_L)) return false
  const l = r.link()
  if (l === undefined || r.pos !== bytes.length) return false
  list.links[0] = l
  return true
}

const BLESSED_PREFIX_LENGTH = 4

class CanonicalReader {
  readonly bytes: Uint8Array
  pos = 0

  constructor(bytes: Uint8Array) {
    this.bytes = bytes
  }

  byte(): number {
    return this.pos < this.bytes.length ? this.bytes[this.pos++]! : -1
  }

  mapKey(char: number): boolean {
    return this.byte() === 0x61 && this.byte() === char
  }

  /** The argument of a head of the given major type in its shortest form, else -1. */
  header(major: number): number {
    const first = this.byte()
    if (first < 0 || first >> 5 !== major) return -1
    const info = first & 0x1f
    if (info < 24) return info
    if (info === 24) {
      const v = this.byte()
      return v >= 24 ? v : -1
    }
    if (info === 25) {
      const hi = this.byte()
      const lo = this.byte()
      if (hi < 0 || lo < 0) return -1
      const v = (hi << 8) | lo
      return v >= 0x100 ? v : -1
    }
    return -1
  }

  /** A tag-42 link or null; undefined when the bytes are not one. */
  link(): CID | null | undefined {
    const bytes = this.bytes
    if (bytes[this.pos] === NULL) {
      this.pos++
      return null
    }
    if (this.byte() !== 0xd8 || this.byte() !== 42) return undefined
    const len = this.header(2)
    if (len < 2 || this.pos + len > bytes.length || bytes[this.pos] !== 0) return undefined
    const start = this.pos + 1
    const end = this.pos + len
    this.pos = end
    const cidBytes = bytes.subarray(start, end)
    if (
      cidBytes.length === BLESSED_PREFIX_LENGTH + 32 &&
      cidBytes[0] === 1 &&
      (cidBytes[1] === DAG_CBOR_CODEC || cidBytes[1] === RAW_CODEC) &&
      cidBytes[2] === SHA2_256_CODE &&
      cidBytes[3] === 32
    ) {
      // Built directly: CID.decode re-parses the varints and copies the bytes.
      const digest = new Digest(SHA2_256_CODE, 32, cidBytes.subarray(4), cidBytes.subarray(2))
      return new CID(1, cidBytes[1], digest, cidBytes)
    }
    try {
      return CID.decode(cidBytes)
    } catch {
      return undefined
    }
  }
}
