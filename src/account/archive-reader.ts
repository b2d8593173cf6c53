/**
 * Reading a repo's R2 archive (archive.ts) without its account object: which objects it has,
 * and any commit's blocks, found by its rev in the object whose key spans it and read with
 * two range reads (the segment's index, then the commit's sections). Objects written before
 * segments (one commit's CAR each) are read whole.
 */
import { readCar } from '../repo/car.ts'
import { type ArchiveKey, parseArchiveKey, repoArchivePrefix } from './archive.ts'
import { decodeSegmentHead, type SegmentIndex, sliceCar } from './archive-segment.ts'

export interface R2ReadLike {
  get(
    key: string,
    options?: { range?: { offset: number; length: number } },
  ): Promise<{ arrayBuffer(): Promise<ArrayBuffer> } | null>
  list(options: {
    prefix: string
    cursor?: string
  }): Promise<{ objects: { key: string }[]; truncated: boolean; cursor?: string }>
}

/** Enough for the index of a full segment (about 70 bytes a commit). */
const INDEX_READ_BYTES = 64 * 1024

/** The repo's archive objects, in commit order. */
export async function listArchive(bucket: R2ReadLike, did: string): Promise<ArchiveKey[]> {
  const keys: ArchiveKey[] = []
  let cursor: string | undefined
  do {
    const page = await bucket.list({ prefix: repoArchivePrefix(did), cursor })
    for (const object of page.objects) {
      const parsed = parseArchiveKey(did, object.key)
      if (parsed) keys.push(parsed)
    }
    cursor = page.truncated ? page.cursor : undefined
  } while (cursor)
  return keys.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
}

/** A segment's index and where its sections start (null: no such object). */
export async function readSegmentIndex(
  bucket: R2ReadLike,
  key: string,
): Promise<{ index: SegmentIndex; sectionsStart: number } | null> {
  let length = INDEX_READ_BYTES
  for (;;) {
    const head = await readRange(bucket, key, 0, length)
    if (!head) return null
    const decoded = decodeSegmentHead(head)
    if ('index' in decoded) return decoded
    // The object ended before the index did: it is not a segment.
    if (head.length < length) throw new Error(`${key} is not an archive segment`)
    length = decoded.need
  }
}

/**
 * The blocks commit `rev` brought, as it wrote them (for an import, every block of the
 * imported repo), each checked against its CID; null when the archive does not hold it.
 */
export async function readArchivedCommit(
  bucket: R2ReadLike,
  did: string,
  rev: string,
): Promise<Map<string, Uint8Array> | null> {
  const holding = (await listArchive(bucket, did)).filter(
    (key) => key.firstRev <= rev && rev <= key.lastRev,
  )
  let blocks: Map<string, Uint8Array> | null = null
  for (const key of holding) {
    const found = key.legacy
      ? await readWhole(bucket, key.key)
      : await readFromSegment(bucket, key.key, rev)
    if (!found) continue
    blocks ??= new Map()
    for (const [cid, bytes] of found) blocks.set(cid, bytes)
  }
  return blocks
}

async function readFromSegment(
  bucket: R2ReadLike,
  key: string,
  rev: string,
): Promise<Map<string, Uint8Array> | null> {
  const head = await readSegmentIndex(bucket, key)
  const commit = head?.index.commits.find((c) => c.rev === rev)
  if (!head || !commit) return null
  const sections = await readRange(bucket, key, head.sectionsStart + commit.offset, commit.length)
  if (!sections || sections.length !== commit.length) {
    throw new Error(`${key}: the sections of ${rev} are cut short`)
  }
  return (await readCar(sliceCar(commit.cid, sections))).blocks
}

async function readWhole(bucket: R2ReadLike, key: string): Promise<Map<string, Uint8Array> | null> {
  const object = await bucket.get(key)
  if (!object) return null
  return (await readCar(new Uint8Array(await object.arrayBuffer()))).blocks
}

async function readRange(
  bucket: R2ReadLike,
  key: string,
  offset: number,
  length: number,
): Promise<Uint8Array | null> {
  const object = await bucket.get(key, { range: { offset, length } })
  if (!object) return null
  return new Uint8Array(await object.arrayBuffer())
}
