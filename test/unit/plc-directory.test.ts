/**
 * Our operations against the real directory code (@did-plc/server, scripts/plc-server.mjs).
 */
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Secp256k1Keypair } from '../../src/crypto/index.ts'
import {
  cidForPlcOperation,
  createGenesisOperation,
  createTombstoneOperation,
  createUpdateOperation,
  DidResolver,
  didForGenesisOperation,
  PlcClient,
  PlcError,
  type PlcOperation,
  parseDidDocument,
  signPlcOperation,
} from '../../src/identity/index.ts'
import { startTestPlc, type TestPlc } from '../helpers/plc.ts'

let plc: TestPlc
let client: PlcClient

beforeAll(async () => {
  plc = await startTestPlc()
  client = new PlcClient(plc.url)
})

afterAll(async () => {
  await plc?.cleanup()
})

async function createAccount(handle: string) {
  const rotation = await Secp256k1Keypair.create()
  const signing = await Secp256k1Keypair.create()
  const recovery = await Secp256k1Keypair.create()
  const op = await signPlcOperation(
    createGenesisOperation({
      signingKeyDid: signing.did(),
      handle,
      pdsEndpoint: 'http://localhost:2583',
      rotationKeys: [rotation.did()],
      recoveryKey: recovery.did(),
    }),
    rotation,
  )
  const did = didForGenesisOperation(op)
  return { did, op, rotation, signing, recovery }
}

describe('local PLC directory', () => {
  it('answers on localhost, and on 127.0.0.1', async () => {
    expect(plc.url).toMatch(/^http:\/\/localhost:\d+$/)
    expect((await fetch(`${plc.url}/_health`)).status).toBe(200)
    expect((await fetch(`http://127.0.0.1:${plc.port}/_health`)).status).toBe(200)
  })

  it('accepts a genesis operation built by our code and serves its DID document', async () => {
    const { did, op, rotation, signing, recovery } = await createAccount('alice.test')
    await client.submitOperation(did, op)

    const parsed = parseDidDocument(await client.getDocument(did))
    expect(parsed).toMatchObject({
      did,
      handle: 'alice.test',
      signingKey: signing.did(),
      pdsEndpoint: 'http://localhost:2583',
    })
    const data = await client.getDocumentData(did)
    expect(data.rotationKeys).toEqual([recovery.did(), rotation.did()])
    expect(data.verificationMethods).toEqual({ atproto: signing.did() })
    expect(await client.getLastOperation(did)).toEqual(op)
  })

  it('applies a handle change; the audit log has both operations', async () => {
    const { did, op, rotation } = await createAccount('bob.test')
    await client.submitOperation(did, op)

    const last = (await client.getLastOperation(did)) as PlcOperation
    const lastCid = await cidForPlcOperation(last)
    const update = await signPlcOperation(
      createUpdateOperation(last, lastCid, { handle: 'bob2.test' }),
      rotation,
    )
    await client.submitOperation(did, update)

    expect(parseDidDocument(await client.getDocument(did)).handle).toBe('bob2.test')
    const log = await client.getAuditLog(did)
    expect(log).toHaveLength(2)
    expect(log[0]).toMatchObject({ did, cid: lastCid, nullified: false, operation: op })
    expect(log[1]!.operation).toEqual(update)
    expect(log[1]!.cid).toBe(await cidForPlcOperation(update))
    expect(new Date(log[1]!.createdAt).getTime()).not.toBeNaN()
  })

  it('rejects a tampered operation with the directory message', async () => {
    const { did, op } = await createAccount('carol.test')
    const tampered = { ...op, alsoKnownAs: ['at://mallory.test'] }
    const error = await client.submitOperation(did, tampered).catch((err: unknown) => err)
    expect(error).toBeInstanceOf(PlcError)
    expect((error as PlcError).status).toBe(400)
    expect((error as PlcError).message).toMatch(/^Invalid signature on op/)
    await expect(client.getDocument(did)).rejects.toMatchObject({ status: 404 })
  })

  it('rejects an update signed by a key that is not a rotation key', async () => {
    const { did, op, signing } = await createAccount('dave.test')
    await client.submitOperation(did, op)
    const update = await signPlcOperation(
      createUpdateOperation(op, await cidForPlcOperation(op), { handle: 'evil.test' }),
      signing,
    )
    await expect(client.submitOperation(did, update)).rejects.toMatchObject({
      name: 'PlcError',
      status: 400,
      message: expect.stringMatching(/signature/i),
    })
  })

  it('rejects a genesis operation submitted under the wrong DID', async () => {
    const { op } = await createAccount('erin.test')
    const error = await client
      .submitOperation('did:plc:aaaaaaaaaaaaaaaaaaaaaaaa', op)
      .catch((err: unknown) => err)
    expect(error).toBeInstanceOf(PlcError)
    expect((error as PlcError).status).toBe(400)
    expect((error as PlcError).message.length).toBeGreaterThan(0)
  })

  it('reports an unknown DID as a 404 PlcError with the directory message', async () => {
    const error = await client.getDocument('did:plc:aaaaaaaaaaaaaaaaaaaaaaaa').catch((e) => e)
    expect(error).toBeInstanceOf(PlcError)
    expect(error).toMatchObject({
      status: 404,
      message: 'DID not registered: did:plc:aaaaaaaaaaaaaaaaaaaaaaaa',
    })
  })

  it('tombstones a DID', async () => {
    const { did, op, rotation } = await createAccount('frank.test')
    await client.submitOperation(did, op)
    const tombstone = await signPlcOperation(
      createTombstoneOperation(await cidForPlcOperation(op)),
      rotation,
    )
    await client.submitOperation(did, tombstone)
    await expect(client.getDocument(did)).rejects.toMatchObject({ status: 404 })
    expect(await client.getLastOperation(did)).toEqual(tombstone)
    const resolver = new DidResolver({ plcUrl: plc.url })
    expect(await resolver.resolve(did)).toBeNull()
  })

  it('DidResolver resolves did:plc through the directory', async () => {
    const { did, op, signing } = await createAccount('gina.test')
    await client.submitOperation(did, op)
    const resolver = new DidResolver({ plcUrl: plc.url })
    const data = await resolver.resolveAtprotoData(did)
    expect(data).toMatchObject({ did, handle: 'gina.test', signingKey: signing.did() })
    expect(await resolver.resolve('did:plc:aaaaaaaaaaaaaaaaaaaaaaaa')).toBeNull()
    await expect(resolver.resolveAtprotoData('did:plc:aaaaaaaaaaaaaaaaaaaaaaaa')).rejects.toThrow(
      'DID not found',
    )
  })

  it('keeps every DID across a restart, through the data file', async () => {
    const { did, op, rotation } = await createAccount('harry.test')
    await client.submitOperation(did, op)
    const update = await signPlcOperation(
      createUpdateOperation(op, await cidForPlcOperation(op), { handle: 'harry2.test' }),
      rotation,
    )
    await client.submitOperation(did, update)
    const before = await client.getAuditLog(did)

    const lines = readFileSync(plc.dataFile!, 'utf8').trim().split('\n')
    expect(lines.length).toBeGreaterThanOrEqual(2)
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ did, operation: update })

    plc = await plc.restart()
    expect(plc.replayed).toBe(lines.length)
    const after = new PlcClient(plc.url)
    expect(parseDidDocument(await after.getDocument(did)).handle).toBe('harry2.test')
    // Same operations, CIDs and original timestamps.
    expect(await after.getAuditLog(did)).toEqual(before)

    // The directory keeps validating after a replay: the next operation must chain on.
    const next = await signPlcOperation(
      createUpdateOperation(update, await cidForPlcOperation(update), { handle: 'harry3.test' }),
      rotation,
    )
    await after.submitOperation(did, next)
    expect(parseDidDocument(await after.getDocument(did)).handle).toBe('harry3.test')
  })
})

describe('PlcClient failures', () => {
  it('maps a refused connection to PlcError with status 0', async () => {
    const port = await closedPort()
    const offline = new PlcClient(`http://127.0.0.1:${port}`)
    const error = await offline.getDocument('did:plc:aaaaaaaaaaaaaaaaaaaaaaaa').catch((e) => e)
    expect(error).toBeInstanceOf(PlcError)
    expect(error).toMatchObject({ status: 0 })
    expect((error as PlcError).message).toMatch(/unreachable/)
  })

  it('times out a directory that does not answer', async () => {
    const silent = createServer(() => {})
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const { port } = silent.address() as { port: number }
    try {
      const slow = new PlcClient(`http://127.0.0.1:${port}`, undefined, { timeoutMs: 200 })
      const started = Date.now()
      const error = await slow.getDocument('did:plc:aaaaaaaaaaaaaaaaaaaaaaaa').catch((e) => e)
      expect(Date.now() - started).toBeLessThan(5_000)
      expect(error).toBeInstanceOf(PlcError)
      expect(error).toMatchObject({ status: 0 })
      expect((error as PlcError).message).toMatch(/timed out/)
    } finally {
      silent.close()
    }
  })

  it('uses an injected fetch and reports non-JSON error bodies by status', async () => {
    const calls: string[] = []
    const stub = new PlcClient('https://plc.example.com/', async (url) => {
      calls.push(url)
      return new Response('Bad Gateway', { status: 502 })
    })
    const error = await stub.getAuditLog('did:plc:aaaaaaaaaaaaaaaaaaaaaaaa').catch((e) => e)
    expect(calls).toEqual([
      'https://plc.example.com/did%3Aplc%3Aaaaaaaaaaaaaaaaaaaaaaaaa/log/audit',
    ])
    expect(error).toMatchObject({ status: 502, message: 'PLC directory error 502: Bad Gateway' })
  })
})

/** A port with nothing listening: bind one, then release it. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}
