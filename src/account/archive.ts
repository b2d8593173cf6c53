/**
 * R2 holds each commit's CAR slice as one object, `repo/<did>/<rev>.car`. It is written
 * from the outbox after the commit point (the blocks are already durable in the account's
 * SQLite), so it stays off the acknowledged path.
 */

export interface CommitArchive {
  putCommit(did: string, rev: string, car: Uint8Array): Promise<void>
  /** Removes every object of the repo (account deletion). */
  deleteRepo(did: string): Promise<void>
}

export interface R2Like {
  put(key: string, value: Uint8Array): Promise<unknown>
  list(options: {
    prefix: string
    cursor?: string
  }): Promise<{ objects: { key: string }[]; truncated: boolean; cursor?: string }>
  delete(keys: string[]): Promise<void>
}

export function commitObjectKey(did: string, rev: string): string {
  return `${repoPrefix(did)}${rev}.car`
}

function repoPrefix(did: string): string {
  return `repo/${did}/`
}

export function createR2CommitArchive(bucket: R2Like): CommitArchive {
  return {
    async putCommit(did, rev, car) {
      await bucket.put(commitObjectKey(did, rev), car)
    },
    async deleteRepo(did) {
      let cursor: string | undefined
      do {
        const page = await bucket.list({ prefix: repoPrefix(did), cursor })
        if (page.objects.length > 0) await bucket.delete(page.objects.map((o) => o.key))
        cursor = page.truncated ? page.cursor : undefined
      } while (cursor)
    },
  }
}
