import { describe, expect, it } from 'vitest'
import { formatMultikey, P256Keypair, Secp256k1Keypair } from '../../src/crypto/index.ts'
import {
  type DidDocument,
  DidDocumentError,
  ensureDidDocument,
  getHandle,
  getServiceEndpoint,
  parseDidDocument,
} from '../../src/identity/index.ts'
import alice from '../fixtures/reference-pds/did-alice.json' with { type: 'json' }
import bob from '../fixtures/reference-pds/did-bob.json' with { type: 'json' }

const ALICE_SIGNING_KEY = 'did:key:zQ3shfJ2yyF3xqqUs121bSV3232e8PBJHVUEKDKhZWZkMMsqL'

describe('parseDidDocument on the reference directory documents (legacy key form)', () => {
  it('alice: handle after the handle change, signing key and PDS endpoint', () => {
    const parsed = parseDidDocument(alice.didDocument.body)
    expect(parsed.did).toBe('did:plc:nd7wqehn3kigdzz3rpd4hdby')
    expect(parsed.handle).toBe('alice2.test')
    expect(parsed.signingKey).toBe(ALICE_SIGNING_KEY)
    expect(parsed.pdsEndpoint).toBe('http://localhost:2583')
    // Same key as the directory's own data view of the DID.
    expect(parsed.signingKey).toBe(alice.plcData.body.verificationMethods.atproto)
  })

  it('bob', () => {
    const parsed = parseDidDocument(bob.didDocument.body)
    expect(parsed).toMatchObject({
      did: bob.did,
      handle: 'bob.test',
      signingKey: bob.plcData.body.verificationMethods.atproto,
      pdsEndpoint: 'http://localhost:2583',
    })
  })
})

function multikeyDoc(did: string, publicKeyMultibase: string, idPrefix = ''): DidDocument {
  return {
    '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/multikey/v1'],
    id: did,
    alsoKnownAs: ['at://carol.example.com'],
    verificationMethod: [
      { id: `${idPrefix}#atproto`, type: 'Multikey', controller: did, publicKeyMultibase },
    ],
    service: [
      {
        id: `${idPrefix}#atproto_pds`,
        type: 'AtprotoPersonalDataServer',
        serviceEndpoint: 'https://pds.example.com',
      },
    ],
  }
}

describe('parseDidDocument forms', () => {
  it('reads Multikey keys (secp256k1 and P-256) with relative and absolute ids', async () => {
    const did = 'did:web:carol.example.com'
    for (const key of [await Secp256k1Keypair.create(), await P256Keypair.create()]) {
      const multibase = formatMultikey(key.jwtAlg, key.publicKeyBytes())
      for (const prefix of ['', did]) {
        const parsed = parseDidDocument(multikeyDoc(did, multibase, prefix))
        expect(parsed.signingKey).toBe(key.did())
        expect(parsed.pdsEndpoint).toBe('https://pds.example.com')
        expect(parsed.handle).toBe('carol.example.com')
      }
    }
  })

  it('reads the legacy EcdsaSecp256r1VerificationKey2019 form', async () => {
    const key = await P256Keypair.create()
    // The legacy form holds the bare compressed point, without the multicodec prefix.
    const { base58btc } = await import('multiformats/bases/base58')
    const doc = multikeyDoc('did:plc:aaaaaaaaaaaaaaaaaaaaaaaa', '')
    doc.verificationMethod![0] = {
      ...doc.verificationMethod![0]!,
      type: 'EcdsaSecp256r1VerificationKey2019',
      publicKeyMultibase: base58btc.encode(key.publicKeyBytes()),
    }
    expect(parseDidDocument(doc).signingKey).toBe(key.did())
  })

  it("ignores methods and services of another DID, and takes the first '#atproto'", async () => {
    const first = await Secp256k1Keypair.create()
    const second = await Secp256k1Keypair.create()
    const did = 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa'
    const doc: DidDocument = {
      id: did,
      verificationMethod: [
        {
          id: 'did:plc:bbbbbbbbbbbbbbbbbbbbbbbb#atproto',
          type: 'Multikey',
          controller: did,
          publicKeyMultibase: formatMultikey('ES256K', second.publicKeyBytes()),
        },
        {
          id: '#atproto',
          type: 'Multikey',
          controller: did,
          publicKeyMultibase: formatMultikey('ES256K', first.publicKeyBytes()),
        },
        {
          id: `${did}#atproto`,
          type: 'Multikey',
          controller: did,
          publicKeyMultibase: formatMultikey('ES256K', second.publicKeyBytes()),
        },
      ],
      service: [
        {
          id: 'did:plc:bbbbbbbbbbbbbbbbbbbbbbbb#atproto_pds',
          type: 'AtprotoPersonalDataServer',
          serviceEndpoint: 'https://wrong.example.com',
        },
      ],
    }
    const parsed = parseDidDocument(doc)
    expect(parsed.signingKey).toBe(first.did())
    expect(parsed.pdsEndpoint).toBeNull()
    expect(parsed.handle).toBeNull()
  })

  it('an unreadable key, a wrong service type or a non-http endpoint give null', () => {
    const did = 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa'
    const doc = multikeyDoc(did, 'zNotBase58!!')
    expect(parseDidDocument(doc).signingKey).toBeNull()
    doc.service = [{ id: '#atproto_pds', type: 'Other', serviceEndpoint: 'https://a.example.com' }]
    expect(parseDidDocument(doc).pdsEndpoint).toBeNull()
    for (const serviceEndpoint of ['ftp://a.example.com', 'not a url', { uri: 'x' }]) {
      doc.service = [{ id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint }]
      expect(parseDidDocument(doc).pdsEndpoint).toBeNull()
    }
  })

  it('the handle is the first valid at:// alias, lowercased', () => {
    const doc: DidDocument = {
      id: 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa',
      alsoKnownAs: [
        'https://alice.example.com',
        'at://not_valid',
        'at://Alice.Example.com',
        'at://b.test',
      ],
    }
    expect(getHandle(doc)).toBe('alice.example.com')
    expect(getHandle({ id: doc.id })).toBeNull()
  })

  it('rejects values that are not DID documents', () => {
    for (const bad of [
      null,
      'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa',
      {},
      { id: 'not-a-did' },
      { id: 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa', alsoKnownAs: 'at://a.test' },
      { id: 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa', verificationMethod: [{ id: '#atproto' }] },
      { id: 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa', service: {} },
    ]) {
      expect(() => ensureDidDocument(bad)).toThrow(DidDocumentError)
    }
  })
})

describe('getServiceEndpoint', () => {
  const doc: DidDocument = {
    id: 'did:web:api.bsky.app',
    service: [
      {
        id: '#bsky_notif',
        type: 'BskyNotificationService',
        serviceEndpoint: 'https://notif.example.com',
      },
      {
        id: 'did:web:api.bsky.app#bsky_appview',
        type: 'BskyAppView',
        serviceEndpoint: 'https://api.bsky.app',
      },
    ],
  }

  it('finds any service by fragment, optionally checking its type', () => {
    expect(getServiceEndpoint(doc, '#bsky_appview')).toBe('https://api.bsky.app')
    expect(getServiceEndpoint(doc, '#bsky_appview', 'BskyAppView')).toBe('https://api.bsky.app')
    expect(getServiceEndpoint(doc, '#bsky_appview', 'Other')).toBeNull()
    expect(getServiceEndpoint(doc, '#bsky_notif')).toBe('https://notif.example.com')
    expect(getServiceEndpoint(doc, '#atproto_pds')).toBeNull()
  })
})
