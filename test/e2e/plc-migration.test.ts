/**
 * The identity side of account migration through `npm run dev` with the official client
 * (@atproto/api): a DID moving in from another host (played by a key the test holds) and
 * going live here, as a relay (@atproto/sync's Firehose) sees it; and an account moving out,
 * which after the move still deactivates and exports its repo here.
 */
import { AtpAgent } from '@atproto/api'
import { type IdentityResolverOpts, IdResolver } from '@atproto/identity'
import { verifyRepoCar } from '@atproto/repo'
import { type Event, Firehose } from '@atproto/sync'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { createServiceAuthToken } from '../../src/auth/index.ts'
import { Secp256k1Keypair } from '../../src/crypto/index.ts'
import {
  cidForPlcOperation,
  createGenesisOperation,
  didForGenesisOperation,
  PlcClient,
  type PlcOperation,
  signPlcOperation,
  verifyPlcOperation,
} from '../../src/identity/index.ts'
import { readAccountToken } from '../helpers/account-token.ts'

const pdsUrl = inject('pdsUrl')
const plcUrl = inject('plcUrl')
const wsUrl = pdsUrl.replace(/^http/, 'ws')
const plc = new PlcClient(plcUrl)
const password = 'correct horse battery staple'
const tokenSource = {
  fetch: (url: string, init?: RequestInit) => fetch(url, init),
  baseUrl: pdsUrl,
}

function uniqueHandle(prefix: string): string {
  return `${prefix}${Math.random().toString(36).slice(2, 10)}.test`
}

async function waitFor(what: string, test: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe('PLC operations with @atproto/api', () => {
  const events: Event[] = []
  const errors: Error[] = []
  const firehose = new Firehose({
    service: wsUrl,
    idResolver: new IdResolver({
      plcUrl,
      // The default fetch refuses loopback addresses; the local directory is one.
      fetch: globalThis.fetch as IdentityResolverOpts['fetch'],
    }),
    getCursor: () => 0,
    handleEvent: (evt) => {
      events.push(evt)
    },
    onError: (err) => {
      errors.push(err)
    },
  })
  void firehose.start()
  afterAll(() => firehose.destroy())

  it('moves a DID in and a relay sees #account, #identity and #sync together at the head', async () => {
    // The old host: a DID whose rotation and signing key the test holds.
    const oldKey = await Secp256k1Keypair.create()
    const genesis = await signPlcOperation(
      createGenesisOperation({
        signingKeyDid: oldKey.did(),
        handle: uniqueHandle('oldhost'),
        pdsEndpoint: 'https://old-pds.example.com',
        rotationKeys: [oldKey.did()],
      }),
      oldKey,
    )
    const did = didForGenesisOperation(genesis)
    await plc.submitOperation(did, genesis)

    const agent = new AtpAgent({ service: pdsUrl })
    const reserved = await agent.com.atproto.server.reserveSigningKey({ did })
    const serviceAuth = await createServiceAuthToken({
      iss: did,
      aud: 'did:web:localhost',
      lxm: 'com.atproto.server.createAccount',
      keypair: oldKey,
    })
    const handle = uniqueHandle('movedin')
    await agent.com.atproto.server.createAccount(
      { did, handle, email: `${handle}@example.com`, password },
      { headers: { authorization: `Bearer ${serviceAuth}` } },
    )
    await agent.login({ identifier: handle, password })
    expect((await agent.com.atproto.server.getSession()).data).toMatchObject({
      did,
      active: false,
    })

    const creds = (await agent.com.atproto.identity.getRecommendedDidCredentials()).data
    expect(creds.verificationMethods).toEqual({ atproto: reserved.data.signingKey })
    const prev = await cidForPlcOperation(await plc.getLastOperation(did))
    const operation = await signPlcOperation(
      {
        type: 'plc_operation',
        rotationKeys: creds.rotationKeys ?? [],
        alsoKnownAs: creds.alsoKnownAs ?? [],
        verificationMethods: creds.verificationMethods as Record<string, string>,
        services: creds.services as PlcOperation['services'],
        prev,
      },
      oldKey,
    )
    await agent.com.atproto.identity.submitPlcOperation({ operation })
    await agent.com.atproto.server.activateAccount()

    const ofDid = () => events.filter((e) => e.did === did)
    await waitFor('the activation events', () => ofDid().some((e) => e.event === 'sync'))
    const last = ofDid().slice(-3)
    expect(last.map((e) => e.event)).toEqual(['account', 'identity', 'sync'])
    expect(last.map((e) => e.seq - last[0]!.seq)).toEqual([0, 1, 2])
    expect(last[0]).toMatchObject({ active: true })
    // The relay resolves the DID on #identity: the document now names this PDS.
    const didDocument = (last[1] as Extract<Event, { event: 'identity' }>).didDocument
    expect(didDocument?.alsoKnownAs).toEqual([`at://${handle}`])
    expect(didDocument?.service).toEqual([
      expect.objectContaining({ id: '#atproto_pds', serviceEndpoint: pdsUrl }),
    ])
    const head = (await agent.com.atproto.sync.getLatestCommit({ did })).data
    expect(last[2]).toMatchObject({ rev: head.rev })
    expect(String((last[2] as Extract<Event, { event: 'sync' }>).cid)).toBe(head.cid)
    expect(errors).toEqual([])

    const car = await agent.com.atproto.sync.getRepo({ did })
    const data = await plc.getDocumentData(did)
    await expect(
      verifyRepoCar(car.data, did, data.verificationMethods.atproto!),
    ).resolves.toBeDefined()
  })

  it('moves an account out; it still deactivates and exports its repo here', async () => {
    const agent = new AtpAgent({ service: pdsUrl })
    const handle = uniqueHandle('movedout')
    await agent.createAccount({ handle, email: `${handle}@example.com`, password })
    const did = agent.session!.did
    await agent.post({ text: 'last post here', createdAt: new Date().toISOString() })
    const keyHere = (await plc.getDocumentData(did)).verificationMethods.atproto!

    await agent.com.atproto.identity.requestPlcOperationSignature()
    const token = await readAccountToken(tokenSource, `${handle}@example.com`, 'plc_operation')
    const newHost = await Secp256k1Keypair.create()
    const signed = await agent.com.atproto.identity.signPlcOperation({
      token,
      rotationKeys: [newHost.did()],
      verificationMethods: { atproto: newHost.did() },
      services: {
        atproto_pds: { type: 'AtprotoPersonalDataServer', endpoint: 'https://new-pds.example.com' },
      },
    })
    const operation = signed.data.operation as unknown as PlcOperation
    expect(
      await verifyPlcOperation(operation, (await plc.getDocumentData(did)).rotationKeys),
    ).toBeTruthy()
    await expect(agent.com.atproto.identity.signPlcOperation({ token })).rejects.toMatchObject({
      error: 'InvalidToken',
    })
    // The new host submits it.
    await plc.submitOperation(did, operation)

    await agent.com.atproto.server.deactivateAccount({})
    await expect(
      new AtpAgent({ service: pdsUrl }).com.atproto.sync.getRepo({ did }),
    ).rejects.toMatchObject({
      error: 'RepoDeactivated',
    })
    const car = await agent.com.atproto.sync.getRepo({ did })
    await expect(verifyRepoCar(car.data, did, keyHere)).resolves.toBeDefined()
  })
})
