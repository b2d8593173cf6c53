/**
 * Every blob CID a PDS lists for an account (`com.atproto.sync.listBlobs`, all pages), or
 * only those added since a rev.
 */
import type { XrpcClient } from './xrpc.ts'

export async function listBlobCids(
  client: XrpcClient,
  did: string,
  since?: string,
): Promise<string[]> {
  const cids: string[] = []
  let cursor: string | undefined
  do {
    const page = await client.query<{ cids: string[]; cursor?: string }>(
      'com.atproto.sync.listBlobs',
      { params: { did, since, limit: 1000, cursor } },
    )
    cids.push(...page.cids)
    cursor = page.cids.length > 0 ? page.cursor : undefined
  } while (cursor)
  return cids
}
