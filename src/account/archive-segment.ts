/**
 * The R2 archive's segment format: the CAR slices of consecutive commits in one object, with
 * an index saying where each commit's blocks are, so one range read finds any of them.
 *
 * A segment is a valid CAR v1 file. Its one root is the index block, which is also its first
 * block; the sections of each commit's slice (commit block first, as the slice had them)
 * follow, commit after commit. The index (DAG-CBOR):
 *
 *   { version: 1, did, commits: [{ rev, cid, offset, length }] }
 *
 * `offset` and `length` locate a commit's sections, counted from the end of the index block's
 * section (so the index does not depend on its own size). A commit's slice is exactly a CAR
 * header naming its commit as root followed by those bytes. An import's blocks, too many for
 * one object, are written as several segments of one commit each (`part` set), each holding
 * a share of the sections.
 */
import { concatBytes } from '../data/bytes.ts'
import { decodeCbor, encodeCbor } from '../data/cbor.ts'
import { CID, cidForCborBytes } from '../data/cid.ts'
import { type CarBlock, encodeCarBytesSync } from '../repo/car.ts'
import { decodeVarint, encodeVarint } from '../repo/varint.ts'

export type SegmentCommit = { rev: string; cid: CID; offset: number; length: number }

export type SegmentIndex = {
  version: 1
  did: string
  commits: SegmentCommit[]
  /** For an import's segments: which share of its blocks this is, from 0. */
  part?: number
}

/** A commit's sections: its CAR slice without the header. */
export type SegmentSlice = { rev: string; cid: CID; sections: Uint8Array }

/** The sections of a CAR (what follows its header). */
export function carSections(car: Uint8Array): Uint8Array {
  const header = decodeVarint(car)
  if (!header) throw new Error('truncated CAR header')
  return car.subarray(header.length + header.value)
}

/** Blocks as CAR sections, with no header. */
export function blockSections(blocks: Iterable<CarBlock>): Uint8Array {
  return carSections(encodeCarBytesSync(null, blocks))
}

export async function encodeSegment(
  did: string,
  slices: SegmentSlice[],
  part?: number,
): Promise<{ bytes: Uint8Array; index: SegmentIndex }> {
  const commits: SegmentCommit[] = []
  let offset = 0
  for (const { rev, cid, sections } of slices) {
    commits.push({ rev, cid, offset, length: sections.length })
    offset += sections.length
  }
  const index: SegmentIndex = { version: 1, did, commits, ...(part === undefined ? {} : { part }) }
  const indexBytes = encodeCbor(index)
  const indexCid = await cidForCborBytes(indexBytes)
  const header = encodeCbor({ version: 1, roots: [indexCid] })
  const parts = [
    encodeVarint(header.length),
    header,
    encodeVarint(indexCid.bytes.length + indexBytes.length),
    indexCid.bytes,
    indexBytes,
    ...slices.map((slice) => slice.sections),
  ]
  return { bytes: concatBytes(parts), index }
}

/**
 * The index of a segment from its first bytes, and where the commits' sections start; or how
 * many first bytes are needed when `head` is too short to hold the index.
 */
export function decodeSegmentHead(
  head: Uint8Array,
): { index: SegmentIndex; sectionsStart: number } | { need: number } {
  const header = decodeVarint(head)
  if (!header) return { need: head.length * 2 }
  const indexAt = header.length + header.value
  const section = decodeVarint(head, indexAt)
  if (!section) return { need: indexAt + 16 }
  const sectionsStart = indexAt + section.length + section.value
  if (head.length < sectionsStart) return { need: sectionsStart }
  const block = head.subarray(indexAt + section.length, sectionsStart)
  const [, indexBytes] = CID.decodeFirst(block)
  const index = decodeCbor<SegmentIndex>(indexBytes)
  if (index.version !== 1 || !Array.isArray(index.commits)) {
    throw new Error('not an archive segment index')
  }
  return { index, sectionsStart }
}

/** A commit's CAR slice from its sections, as the commit's own CAR would have it. */
export function sliceCar(commit: CID, sections: Uint8Array): Uint8Array {
  const header = encodeCbor({ version: 1, roots: [commit] })
  return concatBytes([encodeVarint(header.length), header, sections])
}
