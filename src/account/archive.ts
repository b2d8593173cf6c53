/**
 * The R2 archive of each repo: segments (archive-segment.ts), each the CAR slices of
 * consecutive commits, one object per flush of the outbox, keyed by the first and last rev
 * it holds: `repo/<did>/<firstRev>-<lastRev>.car` (an import's blocks: one object per share,
 * `repo/<did>/<rev>-<rev>.<part>.car`). Revs are TIDs, which sort as strings, so the keys
 * list in commit order. Objects written before segments, `repo/<did>/<rev>.car`, hold one
 * commit's CAR slice each; readers (archive-reader.ts) take both. It is written after the
 * commit point (the blocks are already durable in the account's SQLite), off the
 * acknowledged path.
 */

export interface CommitArchive {
  putSegment(key: string, bytes: Uint8Array): Promise<void>
  /** Removes every object of the repo (account deletion). */
  deleteRepo(did: string): Promise<void>
  /** Removes the objects of commits before `rev` (the repo an import replaced). */
  deleteBefore(did: string, rev: string): Promise<void>
}

export interface R2Like {
  put(key: string, value: Uint8Array): Promise<unknown>
  list(options: {
    prefix: string
    cursor?: string
  }): Promise<{ objects: { key: string }[]; truncated: boolean; cursor?: string }>
  delete(keys: string[]): Promise<void>
}

export function repoArchivePrefix(did: string): string {
  return `repo/${did}/`
}

export function segmentKey(did: string, firstRev: string, lastRev: string, part?: number): string {
  const share = part === undefined ? '' : `.${String(part).padStart(6, '0')}`
  return `${repoArchivePrefix(did)}${firstRev}-${lastRev}${share}.car`
}

export type ArchiveKey = { key: string; firstRev: string; lastRev: string; legacy: boolean }

/** What a key under the repo's prefix holds; null for one that is not the archive's. */
export function parseArchiveKey(did: string, key: string): ArchiveKey | null {
  const name = key.slice(repoArchivePrefix(did).length)
  const segment = /^([a-z2-7]+)-([a-z2-7]+)(\.\d+)?\.car$/.exec(name)
  if (segment) return { key, firstRev: segment[1]!, lastRev: segment[2]!, legacy: false }
  const single = /^([a-z2-7]+)\.car$/.exec(name)
  if (single) return { key, firstRev: single[1]!, lastRev: single[1]!, legacy: true }
  return null
}

export function createR2CommitArchive(bucket: R2Like): CommitArchive {
  const deleteWhere = async (did: string, doomed: (key: string) => boolean) => {
    let cursor: string | undefined
    do {
      const page = await bucket.list({ prefix: repoArchivePrefix(did), cursor })
      const keys = page.objects.map((o) => o.key).filter(doomed)
      if (keys.length > 0) await bucket.delete(keys)
      cursor = page.truncated ? page.cursor : undefined
    } while (cursor)
  }
  return {
    async putSegment(key, bytes) {
      await bucket.put(key, bytes)
    },
    deleteRepo(did) {
      return deleteWhere(did, () => true)
    },
    deleteBefore(did, rev) {
      return deleteWhere(did, (key) => {
        const parsed = parseArchiveKey(did, key)
        return parsed !== null && parsed.firstRev < rev
      })
    },
  }
}
