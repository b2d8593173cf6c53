/**
 * The repo a PDS serves for a DID, checked against the signing key the DID document names,
 * and the empty commit that makes a PDS re-sign an imported repo with that key.
 *
 * The reference PDS serves an imported repo under the old PDS's signature until the next
 * write, so a relay fetching it would refuse it; migrate and restore both follow the import
 * with `resignedIfNeeded`.
 */
import { verifyRepoCar } from '../../src/repo/verify.ts'
import type { XrpcClient } from '../client/xrpc.ts'

export interface ServedRepo {
  /** Whether the commit verifies with the key asked for. */
  signed: boolean
  /** `collection/rkey` → record CID. */
  records: Map<string, string>
  bytes: number
}

export async function fetchServedRepo(
  client: XrpcClient,
  did: string,
  key: string | null,
): Promise<ServedRepo> {
  const res = await client.stream('com.atproto.sync.getRepo', { params: { did } })
  const car = new Uint8Array(await res.arrayBuffer())
  try {
    const verified = await verifyRepoCar(car, { did, signingKey: key ?? undefined })
    return { signed: key !== null, records: recordMap(verified.records), bytes: car.byteLength }
  } catch {
    const unsigned = await verifyRepoCar(car, { did })
    return { signed: false, records: recordMap(unsigned.records), bytes: car.byteLength }
  }
}

/**
 * The served repo; when its commit does not verify with `key`, first one commit creating and
 * deleting the same record (no net change, a fresh signature). `resigned` says whether it was
 * needed. The account must be active.
 */
export async function resignedIfNeeded(
  client: XrpcClient,
  did: string,
  key: string | null,
): Promise<ServedRepo & { resigned: boolean }> {
  const repo = await fetchServedRepo(client, did, key)
  if (repo.signed || !key) return { ...repo, resigned: false }
  const collection = 'dev.edgepds.migration.resign'
  const rkey = 'self'
  await client.procedure('com.atproto.repo.applyWrites', {
    body: {
      repo: did,
      writes: [
        {
          $type: 'com.atproto.repo.applyWrites#create',
          collection,
          rkey,
          value: { $type: collection, createdAt: new Date().toISOString() },
        },
        { $type: 'com.atproto.repo.applyWrites#delete', collection, rkey },
      ],
    },
  })
  return { ...(await fetchServedRepo(client, did, key)), resigned: true }
}

export function recordMap(
  creates: { collection: string; rkey: string; cid: { toString(): string } }[],
): Map<string, string> {
  return new Map(creates.map((c) => [`${c.collection}/${c.rkey}`, c.cid.toString()]))
}
