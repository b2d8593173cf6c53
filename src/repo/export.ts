/**
 * Streaming a whole repository as blocks: the commit first, then every MST node in pre-order
 * with the record blocks of each node right after it. Nothing is held but the current path,
 * so `getRepo` memory does not grow with the repo.
 */
import type { CID } from '../data/cid.ts'
import type { Block } from './block-map.ts'
import { type BlockReader, readBlock } from './block-store.ts'
import { parseCommit } from './commit.ts'
import { Mst } from './mst/index.ts'

export async function* exportRepoBlocks(
  store: BlockReader,
  commitCid: CID,
): AsyncGenerator<Block, void, undefined> {
  const commitBytes = await readBlock(store, commitCid, 'commit block')
  yield { cid: commitCid, bytes: commitBytes }
  const commit = parseCommit(commitBytes)
  for await (const node of Mst.load(store, commit.data).walkNodes()) {
    yield { cid: node.cid, bytes: node.bytes }
    const values = node.entries.map((entry) => entry.value)
    const records = store.getMany
      ? await store.getMany(values)
      : await Promise.all(values.map((cid) => store.get(cid)))
    for (const [i, cid] of values.entries()) {
      const bytes = records[i] ?? (await readBlock(store, cid, 'record block'))
      yield { cid, bytes }
    }
  }
}
