/**
 * Record values the D1 index does not hold (stored as VALUE_NOT_INDEXED: a commit whose value
 * D1 could not store), read from the account object's blocks and turned into atproto JSON,
 * so readers serve the record as the repo has it.
 */
import { VALUE_NOT_INDEXED } from '../account/record-index.ts'
import { accountStub } from '../bindings.ts'
import { decodeCbor } from '../data/cbor.ts'
import { ipldToJson } from '../data/json.ts'
import type { IndexedRecord } from '../db/record-reads.ts'

/** The records with every value filled in; one whose block is gone (replaced since) is left out. */
export async function withRepoValues<T extends IndexedRecord>(
  env: Env,
  did: string,
  records: T[],
): Promise<T[]> {
  if (!records.some((record) => record.value === VALUE_NOT_INDEXED)) return records
  const stub = accountStub(env, did)
  const out: T[] = []
  for (const record of records) {
    if (record.value !== VALUE_NOT_INDEXED) {
      out.push(record)
      continue
    }
    const bytes = await stub.getRecordBlock(record.cid)
    if (bytes) out.push({ ...record, value: JSON.stringify(ipldToJson(decodeCbor(bytes))) })
  }
  return out
}
