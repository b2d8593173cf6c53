import { verifySignature as atprotoVerifySignature } from '@atproto/crypto'
import { describe, expect, it } from 'vitest'
import { P256Keypair, Secp256k1Keypair, verifySignature } from '../../src/crypto/index.ts'
import { base64UrlDecode, encodeCbor } from '../../src/data/index.ts'
import {
  cidForPlcOperation,
  createGenesisOperation,
  createTombstoneOperation,
  createUpdateOperation,
  didForGenesisOperation,
  isValidPlcDid,
  type LegacyPlcCreateOperation,
  normalizeLegacyOperation,
  type PlcOperation,
  PlcOperationError,
  parsePlcOperation,
  signPlcOperation,
  verifyPlcOperation,
} from '../../src/identity/index.ts'
import alice from '../fixtures/reference-pds/did-alice.json' with { type: 'json' }
import bob from '../fixtures/reference-pds/did-bob.json' with { type: 'json' }

const ROTATION_HEX = '9ab7e8c4b2d1f0a3c5e7d9b1a3c5e7f9a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9d1'
const SIGNING_HEX = '1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c5b6a7988'

async function keys() {
  return {
    rotation: await Secp256k1Keypair.import(ROTATION_HEX),
    signing: await Secp256k1Keypair.import(SIGNING_HEX),
    recovery: await P256Keypair.create(),
    other: await Secp256k1Keypair.create(),
  }
}

/** The bytes a PLC signature covers: the operation's DAG-CBOR without `sig`. */
function signedBytes(op: PlcOperation): Uint8Array {
  const { sig: _sig, ...unsigned } = op
  return encodeCbor(unsigned)
}

describe('reference directory operations (fixtures from the reference PDS)', () => {
  for (const [name, fixture] of [
    ['alice', alice],
    ['bob', bob],
  ] as const) {
    const log = fixture.auditLog.body
    const genesis = parsePlcOperation(log[0]!.operation) as PlcOperation

    it(`${name}: the genesis operation hashes to the DID`, () => {
      expect(didForGenesisOperation(genesis)).toBe(fixture.did)
      expect(isValidPlcDid(fixture.did)).toBe(true)
    })

    it(`${name}: operation CIDs match the directory's and chain through prev`, async () => {
      for (const [i, entry] of log.entries()) {
        const op = parsePlcOperation(entry.operation)
        expect(await cidForPlcOperation(op)).toBe(entry.cid)
        const next = log[i + 1]
        if (next) expect(next.operation.prev).toBe(entry.cid)
      }
    })

    it(`${name}: every operation is signed by one of the rotation keys`, async () => {
      for (const entry of log) {
        const op = parsePlcOperation(entry.operation)
        const signer = await verifyPlcOperation(op, genesis.rotationKeys)
        expect(genesis.rotationKeys).toContain(signer)
      }
    })
  }

  it('a changed field or signature no longer verifies', async () => {
    const genesis = parsePlcOperation(alice.auditLog.body[0]!.operation) as PlcOperation
    const tampered = { ...genesis, alsoKnownAs: ['at://mallory.test'] }
    expect(await verifyPlcOperation(tampered, genesis.rotationKeys)).toBeNull()
    const flipped = `${genesis.sig[0] === 'A' ? 'B' : 'A'}${genesis.sig.slice(1)}`
    expect(await verifyPlcOperation({ ...genesis, sig: flipped }, genesis.rotationKeys)).toBeNull()
    expect(
      await verifyPlcOperation({ ...genesis, sig: `${genesis.sig}==` }, genesis.rotationKeys),
    ).toBeNull()
    expect(didForGenesisOperation(tampered)).not.toBe(alice.did)
  })
})

describe('genesis operation', () => {
  it('builds the current format with the handle, signing key and PDS', async () => {
    const { rotation, signing } = await keys()
    const op = createGenesisOperation({
      signingKeyDid: signing.did(),
      handle: 'Alice.Test',
      pdsEndpoint: 'https://pds.example.com',
      rotationKeys: [rotation.did()],
    })
    expect(op).toEqual({
      type: 'plc_operation',
      rotationKeys: [rotation.did()],
      verificationMethods: { atproto: signing.did() },
      alsoKnownAs: ['at://alice.test'],
      services: {
        atproto_pds: { type: 'AtprotoPersonalDataServer', endpoint: 'https://pds.example.com' },
      },
      prev: null,
    })
  })

  it('signs deterministically, so the DID is deterministic', async () => {
    const { rotation, signing } = await keys()
    const input = {
      signingKeyDid: signing.did(),
      handle: 'alice.test',
      pdsEndpoint: 'http://localhost:2583',
      rotationKeys: [rotation.did()],
    }
    const a = await signPlcOperation(createGenesisOperation(input), rotation)
    const b = await signPlcOperation(createGenesisOperation(input), rotation)
    expect(a.sig).toMatch(/^[A-Za-z0-9_-]{86}$/)
    expect(a).toEqual(b)
    const did = didForGenesisOperation(a)
    expect(did).toMatch(/^did:plc:[a-z2-7]{24}$/)
    expect(didForGenesisOperation(b)).toBe(did)
    const otherHandle = await signPlcOperation(
      createGenesisOperation({ ...input, handle: 'bob.test' }),
      rotation,
    )
    expect(didForGenesisOperation(otherHandle)).not.toBe(did)
  })

  it('the signature verifies with the rotation key only', async () => {
    const { rotation, signing, other } = await keys()
    const op = await signPlcOperation(
      createGenesisOperation({
        signingKeyDid: signing.did(),
        handle: 'alice.test',
        pdsEndpoint: 'http://localhost:2583',
        rotationKeys: [rotation.did()],
      }),
      rotation,
    )
    const sig = base64UrlDecode(op.sig)
    expect(await verifySignature(rotation.did(), signedBytes(op), sig)).toBe(true)
    expect(await verifySignature(other.did(), signedBytes(op), sig)).toBe(false)
    expect(await verifySignature(signing.did(), signedBytes(op), sig)).toBe(false)
    // And the reference implementation agrees.
    expect(await atprotoVerifySignature(rotation.did(), signedBytes(op), sig)).toBe(true)
    expect(await verifyPlcOperation(op, [rotation.did()])).toBe(rotation.did())
    expect(await verifyPlcOperation(op, [other.did()])).toBeNull()
  })

  it('puts the recovery key first, then the PDS rotation key', async () => {
    const { rotation, signing, recovery } = await keys()
    const op = createGenesisOperation({
      signingKeyDid: signing.did(),
      handle: 'alice.test',
      pdsEndpoint: 'http://localhost:2583',
      rotationKeys: [rotation.did()],
      recoveryKey: recovery.did(),
    })
    expect(op.rotationKeys).toEqual([recovery.did(), rotation.did()])
    const signed = await signPlcOperation(op, recovery)
    // A P-256 recovery key signs just as well as the PDS's secp256k1 key.
    expect(await verifyPlcOperation(signed, op.rotationKeys)).toBe(recovery.did())
  })

  it('rejects bad inputs', async () => {
    const { rotation, signing } = await keys()
    const base = {
      signingKeyDid: signing.did(),
      handle: 'alice.test',
      pdsEndpoint: 'https://pds.example.com',
      rotationKeys: [rotation.did()],
    }
    const many = await Promise.all(
      Array.from({ length: 6 }, async () => (await Secp256k1Keypair.create()).did()),
    )
    const bad = [
      { ...base, rotationKeys: [] },
      { ...base, rotationKeys: many },
      { ...base, rotationKeys: [rotation.did(), rotation.did()] },
      { ...base, rotationKeys: ['did:key:zNotAKey'] },
      { ...base, signingKeyDid: 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa' },
      { ...base, handle: 'not a handle' },
      { ...base, pdsEndpoint: 'pds.example.com' },
      { ...base, pdsEndpoint: 'ftp://pds.example.com' },
    ]
    for (const input of bad) {
      expect(() => createGenesisOperation(input)).toThrow(PlcOperationError)
    }
  })

  it('refuses to derive a DID from an unsigned or non-genesis operation', async () => {
    const { rotation, signing } = await keys()
    const op = createGenesisOperation({
      signingKeyDid: signing.did(),
      handle: 'alice.test',
      pdsEndpoint: 'https://pds.example.com',
      rotationKeys: [rotation.did()],
    })
    expect(() => didForGenesisOperation({ ...op, sig: '' })).toThrow(PlcOperationError)
    const signed = await signPlcOperation(op, rotation)
    const cid = await cidForPlcOperation(signed)
    expect(() => didForGenesisOperation({ ...signed, prev: cid })).toThrow(PlcOperationError)
  })
})

describe('update and tombstone operations', () => {
  it("links to the previous operation's CID and changes only what is asked", async () => {
    const { rotation, signing, other } = await keys()
    const genesis = await signPlcOperation(
      createGenesisOperation({
        signingKeyDid: signing.did(),
        handle: 'alice.test',
        pdsEndpoint: 'http://localhost:2583',
        rotationKeys: [rotation.did()],
      }),
      rotation,
    )
    const genesisCid = await cidForPlcOperation(genesis)
    expect(genesisCid).toMatch(/^bafyrei[a-z2-7]+$/)

    const update = await signPlcOperation(
      createUpdateOperation(genesis, genesisCid, { handle: 'alice2.test' }),
      rotation,
    )
    expect(update.prev).toBe(genesisCid)
    expect(update.alsoKnownAs).toEqual(['at://alice2.test'])
    expect(update.verificationMethods).toEqual(genesis.verificationMethods)
    expect(update.services).toEqual(genesis.services)
    expect(update.rotationKeys).toEqual(genesis.rotationKeys)
    expect(update.sig).not.toBe(genesis.sig)
    expect(await verifyPlcOperation(update, genesis.rotationKeys)).toBe(rotation.did())

    const updateCid = await cidForPlcOperation(update)
    const moved = createUpdateOperation(update, updateCid, {
      signingKeyDid: other.did(),
      pdsEndpoint: 'https://new-pds.example.com',
      rotationKeys: [other.did(), rotation.did()],
    })
    expect(moved.prev).toBe(updateCid)
    expect(moved.verificationMethods.atproto).toBe(other.did())
    expect(moved.services.atproto_pds?.endpoint).toBe('https://new-pds.example.com')
    expect(moved.rotationKeys).toEqual([other.did(), rotation.did()])
    expect(moved.alsoKnownAs).toEqual(['at://alice2.test'])
    expect('sig' in moved).toBe(false)
  })

  it('replaces the first at:// alias and keeps the other aliases and services', async () => {
    const { rotation, signing } = await keys()
    const last: PlcOperation = {
      ...createGenesisOperation({
        signingKeyDid: signing.did(),
        handle: 'alice.test',
        pdsEndpoint: 'https://pds.example.com',
        rotationKeys: [rotation.did()],
      }),
      alsoKnownAs: ['https://alice.example.com', 'at://alice.test', 'at://old.test'],
      services: {
        atproto_pds: { type: 'AtprotoPersonalDataServer', endpoint: 'https://pds.example.com' },
        other: { type: 'Other', endpoint: 'https://other.example.com' },
      },
      sig: 'x',
    }
    const cid = await cidForPlcOperation(last)
    const next = createUpdateOperation(last, cid, { handle: 'alice3.test' })
    expect(next.alsoKnownAs).toEqual([
      'https://alice.example.com',
      'at://alice3.test',
      'at://old.test',
    ])
    expect(next.services.other).toEqual(last.services.other)
    // The input is not modified.
    expect(last.alsoKnownAs[1]).toBe('at://alice.test')
  })

  it('continues from a legacy create operation', async () => {
    const { rotation, signing } = await keys()
    const legacy: LegacyPlcCreateOperation = {
      type: 'create',
      signingKey: signing.did(),
      recoveryKey: rotation.did(),
      handle: 'legacy.test',
      service: 'https://pds.example.com',
      prev: null,
      sig: 'x',
    }
    const normalized = normalizeLegacyOperation(legacy)
    expect(normalized.rotationKeys).toEqual([rotation.did(), signing.did()])
    expect(normalized.alsoKnownAs).toEqual(['at://legacy.test'])
    const cid = await cidForPlcOperation(legacy)
    const next = createUpdateOperation(legacy, cid, { pdsEndpoint: 'https://b.example.com' })
    expect(next.alsoKnownAs).toEqual(['at://legacy.test'])
    expect(next.services.atproto_pds?.endpoint).toBe('https://b.example.com')
    expect(next.prev).toBe(cid)
  })

  it('nothing follows a tombstone, and prev must be a CID', async () => {
    const { rotation, signing } = await keys()
    const genesis = await signPlcOperation(
      createGenesisOperation({
        signingKeyDid: signing.did(),
        handle: 'alice.test',
        pdsEndpoint: 'https://pds.example.com',
        rotationKeys: [rotation.did()],
      }),
      rotation,
    )
    const cid = await cidForPlcOperation(genesis)
    const tombstone = await signPlcOperation(createTombstoneOperation(cid), rotation)
    expect(tombstone).toMatchObject({ type: 'plc_tombstone', prev: cid })
    expect(await verifyPlcOperation(tombstone, [rotation.did()])).toBe(rotation.did())
    expect(() => createUpdateOperation(tombstone, cid, { handle: 'x.test' })).toThrow(
      PlcOperationError,
    )
    expect(() => createUpdateOperation(genesis, 'not-a-cid', {})).toThrow(PlcOperationError)
    expect(() => createTombstoneOperation('nope')).toThrow(PlcOperationError)
  })
})

describe('parsePlcOperation', () => {
  it('accepts the three operation types and rejects malformed ones', () => {
    const genesis = alice.auditLog.body[0]!.operation
    expect(parsePlcOperation(genesis)).toEqual(genesis)
    expect(parsePlcOperation({ type: 'plc_tombstone', prev: 'bafy', sig: 's' }).type).toBe(
      'plc_tombstone',
    )
    for (const bad of [
      null,
      [],
      { ...genesis, type: 'plc_other' },
      { ...genesis, sig: undefined },
      { ...genesis, rotationKeys: 'did:key:x' },
      { ...genesis, services: { atproto_pds: { type: 'X' } } },
      { ...genesis, prev: 5 },
      { type: 'plc_tombstone', sig: 's' },
    ]) {
      expect(() => parsePlcOperation(bad)).toThrow(PlcOperationError)
    }
  })
})
