/**
 * Covering proofs: the nodes a reader needs to show a key is present or absent, and to
 * invert its insertion or deletion. That is the path from the root towards the key and,
 * where the key sits, the inner spines of its two neighbouring subtrees (the nodes merged
 * when it is removed). For an absent key the path runs to the bottom, which is what
 * splitting around it on insertion reads.
 */
import { BlockMap } from '../block-map.ts'
import type { BlockReader } from '../block-store.ts'
import { loadNode, nodeCid } from './load.ts'
import type { MstNode } from './node.ts'
import { lowerBound } from './ops.ts'

export async function addProofBlocks(
  root: MstNode,
  key: string,
  store: BlockReader,
  out: BlockMap = new BlockMap(),
): Promise<BlockMap> {
  const add = async (node: MstNode) => {
    const data = node.data ?? (await loadNode(node, store))
    out.set(nodeCid(node), node.bytes!)
    return data
  }
  let node: MstNode | null = root
  while (node) {
    const { keys, children } = await add(node)
    const i = lowerBound(keys, key)
    if (keys[i] === key) {
      let left = children[i] ?? null
      while (left) {
        const data = await add(left)
        left = data.children[data.keys.length] ?? null
      }
      let right = children[i + 1] ?? null
      while (right) {
        const data = await add(right)
        right = data.children[0] ?? null
      }
      break
    }
    node = children[i] ?? null
  }
  return out
}
