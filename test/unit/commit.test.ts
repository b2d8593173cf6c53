import { readFileSync } from 'node:fs'
import * as dagCbor from '@ipld/dag-cbor'
import { p256 } from '@noble/curves/nist.js'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { base58btc } from 'multiformats/bases/base58'
import { sha512 } from 'multiformats/hashes/sha2'
import { describe, expect, it } from 'vitest'
import { P256Keypair, Secp256k1Keypair } from '../../src/crypto/index.ts'
import { decodeCbor, encodeCborBlock } from '../../src/data/cbor.ts'
import { CID, cidForCborBytes, cidForRawBytes, DAG_CBOR_CODEC } from '../../src/data/cid.ts'
import { encodeCarBytes, readCar, readCarStream } from '../../src/repo/car.ts'
import {
  type Commit,
  CommitError,
  commitToBlock,
  encodeUnsignedCommit,
  parseCommit,
  type SigningKey,
  signCommit,
  type UnsignedCommit,
  verifyCommitSignature,
} from '../../src/repo/commit.ts'

const FIXTURES = new URL('../fixtures/reference-pds/', import.meta.url)
const facts = JSON.parse(readFileSync(new URL('README-facts.json', FIXTURES), 'utf8')) as {
  aliceDid: string
  aliceSigningKey: string
  bobDid: string
  bobSigningKey: string
  latestCommit: { cid: string; rev: string }
}

/** A signer built straight on @noble/curves, independent of src/crypto. */
function testKey(curve: 'k256' | 'p256'): SigningKey {
  const impl = curve === 'k256' ? secp256k1 : p256
  const prefix = curve === 'k256' ? [0xe7, 0x01] : [0x80, 0x24]
  const secretKey = impl.utils.randomSecretKey()
  const publicKey = impl.getPublicKey(secretKey, true)
  const didKey = `did:key:${base58btc.encode(new Uint8Array([...prefix, ...publicKey]))}`
  return {
    jwtAlg: curve === 'k256' ? 'ES256K' : 'ES256',
    did: () => didKey,
    sign: async (message) => impl.sign(message, secretKey),
  }
}

async function unsignedCommit(): Promise<UnsignedCommit> {
  const data = (await encodeCborBlock({ l: null, e: [] })).cid
  return {
    did: 'did:plc:abcdefghijklmnopqrstuvwx',
    version: 3,
    data,
    rev: '3n32p4eelsf2a',
    prev: null,
  }
}

function encodeRaw(value: Record<string, unknown>): Uint8Array {
  return dagCbor.encode(value)
}

describe('signCommit / verifyCommitSignature', () => {
  for (const curve of ['k256', 'p256'] as const) {
    it(`verifies with the signing key (${curve}) and not with another key`, async () => {
      const key = testKey(curve)
      const commit = await signCommit(await unsignedCommit(), key)
      expect(commit.sig.length).toBe(64)
      expect(await verifyCommitSignature(commit, key.did())).toBe(true)
      expect(await verifyCommitSignature(commit, testKey('k256').did())).toBe(false)
      expect(await verifyCommitSignature(commit, testKey('p256').did())).toBe(false)
    })
  }

  it('signs with the project keypairs (src/crypto)', async () => {
    for (const key of [await Secp256k1Keypair.create(), await P256Keypair.create()]) {
      const commit = await signCommit(await unsignedCommit(), key)
      expect(await verifyCommitSignature(commit, key.did())).toBe(true)
      const parsed = parseCommit((await commitToBlock(commit)).bytes)
      expect(await verifyCommitSignature(parsed, key.did())).toBe(true)
    }
  })

  it('fails verification when any signed field changes', async () => {
    const key = testKey('k256')
    const commit = await signCommit(await unsignedCommit(), key)
    const otherCid = (await encodeCborBlock({ other: true })).cid
    const tampered: Commit[] = [
      { ...commit, rev: '3n32p4eelsf2b' },
      { ...commit, data: otherCid },
      { ...commit, did: 'did:plc:bbcdefghijklmnopqrstuvwx' },
      { ...commit, prev: otherCid },
      { ...commit, sig: commit.sig.map((b, i) => (i === 10 ? b ^ 1 : b)) },
    ]
    for (const changed of tampered) {
      expect(await verifyCommitSignature(changed, key.did())).toBe(false)
    }
  })

  it('signs the encoding without sig, with prev present as null', async () => {
    const key = testKey('k256')
    const seen: Uint8Array[] = []
    const recording: SigningKey = {
      ...key,
      sign: async (message) => {
        seen.push(message)
        return key.sign(message)
      },
    }
    const unsigned = { ...(await unsignedCommit()), prev: undefined } as unknown as UnsignedCommit
    const commit = await signCommit(unsigned, recording)
    expect(commit.prev).toBeNull()
    const signed = decodeCbor<Record<string, unknown>>(seen[0]!)
    expect(Object.keys(signed).sort()).toEqual(['data', 'did', 'prev', 'rev', 'version'])
    expect(signed.prev).toBeNull()
    expect(seen[0]).toEqual(encodeUnsignedCommit(commit))
  })

  it('refuses to sign a malformed commit', async () => {
    const key = testKey('k256')
    const base = await unsignedCommit()
    const rawCid = await cidForRawBytes(new Uint8Array([1]))
    const bad = [
      { ...base, did: 'plc:abc' },
      { ...base, rev: 'not-a-tid' },
      { ...base, data: rawCid },
      { ...base, prev: rawCid },
    ]
    for (const unsigned of bad) {
      await expect(signCommit(unsigned, key)).rejects.toThrow(CommitError)
    }
  })
})

describe('commitToBlock / parseCommit', () => {
  it('round-trips, and the CID is over the signed object', async () => {
    const commit = await signCommit(await unsignedCommit(), testKey('p256'))
    const block = await commitToBlock(commit)
    expect(block.cid.equals(await cidForCborBytes(block.bytes))).toBe(true)
    expect(block.cid.code).toBe(DAG_CBOR_CODEC)
    const raw = decodeCbor<Record<string, unknown>>(block.bytes)
    expect(Object.keys(raw).sort()).toEqual(['data', 'did', 'prev', 'rev', 'sig', 'version'])
    expect(raw.prev).toBeNull()
    const parsed = parseCommit(block.bytes)
    expect(parsed).toEqual(commit)
    expect(parsed.data.equals(commit.data)).toBe(true)
  })

  it('keeps a CID prev', async () => {
    const prev = (await encodeCborBlock({ old: 1 })).cid
    const commit = await signCommit({ ...(await unsignedCommit()), prev }, testKey('k256'))
    const parsed = parseCommit((await commitToBlock(commit)).bytes)
    expect(parsed.prev?.equals(prev)).toBe(true)
  })

  it('accepts a v2 commit with the same fields for reading', async () => {
    const key = testKey('k256')
    const v3 = await signCommit(await unsignedCommit(), key)
    const v2 = { ...v3, version: 2 as const }
    const sig = await key.sign(encodeUnsignedCommit(v2))
    const parsed = parseCommit(encodeRaw({ ...v2, sig }))
    expect(parsed.version).toBe(2)
    expect(await verifyCommitSignature(parsed, key.did())).toBe(true)
  })

  it('rejects malformed commits', async () => {
    const commit = await signCommit(await unsignedCommit(), testKey('k256'))
    const good: Record<string, unknown> = { ...commit }
    const without = (field: string): Record<string, unknown> => {
      const copy = { ...good }
      delete copy[field]
      return copy
    }
    const sha512Cid = CID.createV1(DAG_CBOR_CODEC, await sha512.digest(new Uint8Array([1])))
    const rawCid = await cidForRawBytes(new Uint8Array([1]))
    const cases: Array<[string, Uint8Array]> = [
      ['not CBOR', new Uint8Array([0xff])],
      ['a string', dagCbor.encode('commit')],
      ['empty', new Uint8Array(0)],
      ['an array', dagCbor.encode([1, 2])],
      ['version 4', encodeRaw({ ...good, version: 4 })],
      ['version 1', encodeRaw({ ...good, version: 1 })],
      ['no version', encodeRaw(without('version'))],
      ['no did', encodeRaw(without('did'))],
      ['bad did', encodeRaw({ ...good, did: 'did:PLC:x' })],
      ['no data', encodeRaw(without('data'))],
      ['data as string', encodeRaw({ ...good, data: commit.data.toString() })],
      ['data raw codec', encodeRaw({ ...good, data: rawCid })],
      ['data sha2-512', encodeRaw({ ...good, data: sha512Cid })],
      ['no rev', encodeRaw(without('rev'))],
      ['rev not a TID', encodeRaw({ ...good, rev: '2024-01-01' })],
      ['no prev', encodeRaw(without('prev'))],
      ['prev bytes', encodeRaw({ ...good, prev: new Uint8Array(4) })],
      ['no sig', encodeRaw(without('sig'))],
      ['sig as string', encodeRaw({ ...good, sig: 'abc' })],
      ['unknown field', encodeRaw({ ...good, extra: 1 })],
    ]
    for (const [label, bytes] of cases) {
      expect(() => parseCommit(bytes), label).toThrow(CommitError)
    }
  })
})

describe('reference PDS commit', () => {
  it('parses and verifies the commit of repo-alice.car with alice’s key', async () => {
    const car = await readCar(new Uint8Array(readFileSync(new URL('repo-alice.car', FIXTURES))))
    const root = car.roots[0]!
    expect(root.toString()).toBe(facts.latestCommit.cid)
    const bytes = car.blocks.get(root.toString())!
    const commit = parseCommit(bytes)
    expect(commit.version).toBe(3)
    expect(commit.did).toBe(facts.aliceDid)
    expect(commit.rev).toBe(facts.latestCommit.rev)
    expect(commit.prev).toBeNull()
    expect(car.blocks.has(commit.data.toString())).toBe(true)
    expect(await verifyCommitSignature(commit, facts.aliceSigningKey)).toBe(true)
    expect(await verifyCommitSignature(commit, facts.bobSigningKey)).toBe(false)
    expect(
      await verifyCommitSignature({ ...commit, rev: '3n32p4eelsf2b' }, facts.aliceSigningKey),
    ).toBe(false)
    // Our encoding reproduces the reference block exactly.
    const reencoded = await commitToBlock({ ...commit, version: 3 })
    expect(new Uint8Array(reencoded.bytes)).toEqual(new Uint8Array(bytes))
    expect(reencoded.cid.equals(root)).toBe(true)
  })
})

type Frame = {
  type: string
  body: {
    repo?: string
    did?: string
    rev: string
    commit?: { $link: string }
    blocks: { $bytes: string }
  }
}

describe('reference PDS firehose commits', () => {
  const { frames } = JSON.parse(readFileSync(new URL('frames.json', FIXTURES), 'utf8')) as {
    frames: Frame[]
  }
  const keys: Record<string, string> = {
    [facts.aliceDid]: facts.aliceSigningKey,
    [facts.bobDid]: facts.bobSigningKey,
  }
  const withCars = frames.filter((f) => f.type === 'commit' || f.type === 'sync')

  it('covers every #commit and #sync frame', () => {
    expect(withCars.length).toBe(18)
  })

  it('every frame CAR reads, its commit parses, re-encodes identically and verifies', async () => {
    for (const frame of withCars) {
      const car = new Uint8Array(Buffer.from(frame.body.blocks.$bytes, 'base64'))
      const stream = await readCarStream([car.subarray(0, 40), car.subarray(40)])
      const blocks = []
      for await (const block of stream.blocks) blocks.push(block)
      const root = stream.roots[0]!
      if (frame.body.commit) expect(root.toString()).toBe(frame.body.commit.$link)
      expect(new Uint8Array(await encodeCarBytes(root, blocks))).toEqual(car)
      const commitBlock = blocks.find((b) => b.cid.equals(root))!
      const commit = parseCommit(commitBlock.bytes)
      const did = frame.body.repo ?? frame.body.did!
      expect(commit.did).toBe(did)
      expect(commit.rev).toBe(frame.body.rev)
      expect(await verifyCommitSignature(commit, keys[did]!)).toBe(true)
      const other = did === facts.aliceDid ? facts.bobSigningKey : facts.aliceSigningKey
      expect(await verifyCommitSignature(commit, other)).toBe(false)
      const block = await commitToBlock({ ...commit, version: 3 })
      expect(block.cid.equals(root)).toBe(true)
    }
  })
})
