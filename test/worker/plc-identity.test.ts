/**
 * The identity side of account migration against the local PLC directory: reserveSigningKey,
 * getRecommendedDidCredentials, requestPlcOperationSignature, signPlcOperation and
 * submitPlcOperation; a DID moving in (createAccount with service auth → credentials → an
 * operation signed at the old side → submit → activate, with its three events), and a DID
 * moving out (a token, our signature, the DID elsewhere, the account still deactivating and
 * exporting here).
 */
import { env, SELF } from 'cloudflare:test'
import { describe, expect, inject, it, vi } from 'vitest'
import { createServiceAuthToken } from '../../src/auth/index.ts'
import { getConfig } from '../../src/config.ts'
import { Secp256k1Keypair } from '../../src/crypto/index.ts'
import type { CID } from '../../src/data/cid.ts'
import {
  ATPROTO_PDS_SERVICE_TYPE,
  cidForPlcOperation,
  PlcClient,
  type PlcOperation,
  type PlcService,
  signPlcOperation,
  verifyPlcOperation,
} from '../../src/identity/index.ts'
import { plcRotationKey } from '../../src/identity/services.ts'
import { readCar } from '../../src/repo/car.ts'
import { verifyRepoCar } from '../../src/repo/verify.ts'
import { readAccountToken } from '../helpers/account-token.ts'
import { eventsOf } from './account-helpers.ts'
import { subscribe } from './firehose-helpers.ts'
import { expectWrongSessionKind } from './helpers/auth.ts'
import { foreignDid, OLD_PDS } from './helpers/foreign-did.ts'
import {
  BASE,
  createTestAccount,
  type TestAccount,
  uniqueHandle,
  xrpcGet,
  xrpcPost,
} from './helpers/xrpc.ts'
import { fakeUpstreams, json } from './proxy-upstreams.ts'

const plc = new PlcClient(inject('plcUrl'))
const config = getConfig(env)
const tokenSource = {
  fetch: (url: string, init?: RequestInit) => SELF.fetch(url, init),
  baseUrl: BASE,
}

interface Credentials {
  rotationKeys?: string[]
  alsoKnownAs: string[]
  verificationMethods: Record<string, string>
  services: Record<string, PlcService>
}

async function ourRotationKey(): Promise<string> {
  return (await plcRotationKey(config)).did()
}

/** Asks for a plc_operation token and reads it where the user would get it. */
async function plcToken(account: TestAccount): Promise<string> {
  const res = await xrpcPost(
    'com.atproto.identity.requestPlcOperationSignature',
    undefined,
    account.accessJwt,
  )
  expect(res.status).toBe(200)
  return readAccountToken(tokenSource, account.email, 'plc_operation')
}

function sign(account: TestAccount, body: Record<string, unknown>) {
  return xrpcPost<{ operation: PlcOperation; error?: string; message?: string }>(
    'com.atproto.identity.signPlcOperation',
    body,
    account.accessJwt,
  )
}

function submit(account: TestAccount, operation: unknown) {
  return xrpcPost('com.atproto.identity.submitPlcOperation', { operation }, account.accessJwt)
}

function credentialsOf(account: TestAccount) {
  return xrpcGet<Credentials>(
    'com.atproto.identity.getRecommendedDidCredentials',
    {},
    account.accessJwt,
  )
}

/** createAccount with the DID and a service-auth token from its current key: deactivated. */
async function createMigratingAccount(did: string, key: Secp256k1Keypair): Promise<TestAccount> {
  const token = await createServiceAuthToken({
    iss: did,
    aud: config.serviceDid,
    lxm: 'com.atproto.server.createAccount',
    keypair: key,
  })
  const handle = uniqueHandle('moved')
  const password = 'correct horse battery'
  const email = `${crypto.randomUUID()}@example.com`
  const res = await xrpcPost<TestAccount>(
    'com.atproto.server.createAccount',
    { did, handle, email, password },
    token,
  )
  expect(res.status).toBe(200)
  return { ...res.body, email, password }
}

/** What the old host signs: the DID's current operation followed by `fields`. */
async function signedAtOldSide(
  did: string,
  key: Secp256k1Keypair,
  fields: Credentials,
): Promise<PlcOperation> {
  const prev = await cidForPlcOperation(await plc.getLastOperation(did))
  return signPlcOperation(
    {
      type: 'plc_operation',
      rotationKeys: fields.rotationKeys ?? [],
      alsoKnownAs: fields.alsoKnownAs,
      verificationMethods: fields.verificationMethods,
      services: fields.services,
      prev,
    },
    key,
  )
}

async function auditLength(did: string): Promise<number> {
  return (await plc.getAuditLog(did)).length
}

async function appPasswordSession(account: TestAccount): Promise<TestAccount> {
  const app = await xrpcPost<{ password: string }>(
    'com.atproto.server.createAppPassword',
    { name: `app ${crypto.randomUUID()}` },
    account.accessJwt,
  )
  const session = await xrpcPost<TestAccount>('com.atproto.server.createSession', {
    identifier: account.handle,
    password: app.body.password,
  })
  expect(session.status).toBe(200)
  return session.body
}

describe('reserveSigningKey', () => {
  it('reserves one key per DID, a fresh one without, and answers a hosted DID its own key', async () => {
    const { did } = await foreignDid()
    const first = await xrpcPost<{ signingKey: string }>('com.atproto.server.reserveSigningKey', {
      did,
    })
    expect(first.status).toBe(200)
    expect(first.body.signingKey).toMatch(/^did:key:z/)
    const again = await xrpcPost<{ signingKey: string }>('com.atproto.server.reserveSigningKey', {
      did,
    })
    expect(again.body.signingKey).toBe(first.body.signingKey)

    const anonymous = await xrpcPost<{ signingKey: string }>(
      'com.atproto.server.reserveSigningKey',
      {},
    )
    expect(anonymous.status).toBe(200)
    expect(anonymous.body.signingKey).toMatch(/^did:key:z/)
    expect(anonymous.body.signingKey).not.toBe(first.body.signingKey)

    const hosted = await createTestAccount('reserved')
    const own = await xrpcPost<{ signingKey: string }>('com.atproto.server.reserveSigningKey', {
      did: hosted.did,
    })
    const data = await plc.getDocumentData(hosted.did)
    expect(own.body.signingKey).toBe(data.verificationMethods.atproto)

    const bad = await xrpcPost('com.atproto.server.reserveSigningKey', { did: 'not-a-did' })
    expect(bad.status).toBe(400)
    expect(bad.body).toMatchObject({ error: 'InvalidRequest' })
  })
})

describe('getRecommendedDidCredentials', () => {
  it("names our rotation key, the handle, the account's key and our endpoint", async () => {
    const account = await createTestAccount('creds')
    const res = await credentialsOf(account)
    expect(res.status).toBe(200)
    const data = await plc.getDocumentData(account.did)
    // An account created here already has exactly this document.
    expect(res.body).toEqual({
      rotationKeys: [await ourRotationKey()],
      alsoKnownAs: [`at://${account.handle}`],
      verificationMethods: { atproto: data.verificationMethods.atproto },
      services: {
        atproto_pds: { type: ATPROTO_PDS_SERVICE_TYPE, endpoint: config.publicUrl },
      },
    })
    expect(res.body).toEqual({
      rotationKeys: data.rotationKeys,
      alsoKnownAs: data.alsoKnownAs,
      verificationMethods: data.verificationMethods,
      services: data.services,
    })
  })

  it('needs a full-access session', async () => {
    const account = await createTestAccount('credsapp')
    expectWrongSessionKind(await credentialsOf(await appPasswordSession(account)))
    expect((await xrpcGet('com.atproto.identity.getRecommendedDidCredentials')).status).toBe(401)
  })
})

describe('requestPlcOperationSignature', () => {
  it("mails a 15-minute plc_operation token that reaches no log but the development mailbox's", async () => {
    const account = await createTestAccount('plcreq')
    const logged: unknown[] = []
    const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((level) =>
      vi.spyOn(console, level).mockImplementation((...args) => void logged.push(...args)),
    )
    const res = await xrpcPost(
      'com.atproto.identity.requestPlcOperationSignature',
      undefined,
      account.accessJwt,
    ).finally(() => {
      for (const spy of spies) spy.mockRestore()
    })
    expect(res.status).toBe(200)
    const token = await readAccountToken(tokenSource, account.email, 'plc_operation')
    expect(token).toMatch(/^[A-Z2-9]{5}-[A-Z2-9]{5}$/)
    // The development mailbox prints codes where `npm run dev` runs (by design, dev mode
    // only); no other log line may carry it.
    const otherLines = logged.map(String).filter((line) => !line.startsWith('[dev mailbox]'))
    expect(otherLines.join('\n')).not.toContain(token)
    expect(logged.map(String).some((line) => line.startsWith('[dev mailbox]'))).toBe(true)
    const row = await env.DB.prepare(
      "SELECT requested_at FROM account_token WHERE did = ? AND purpose = 'plc_operation'",
    )
      .bind(account.did)
      .first<{ requested_at: string }>()
    expect(Date.now() - Date.parse(row!.requested_at)).toBeLessThan(60_000)
  })

  it('needs a full-access session', async () => {
    const account = await createTestAccount('plcreqapp')
    const app = await appPasswordSession(account)
    expectWrongSessionKind(
      await xrpcPost('com.atproto.identity.requestPlcOperationSignature', undefined, app.accessJwt),
    )
  })
  it('gives a did:web account no code: 400, nothing mailed', async () => {
    const key = await Secp256k1Keypair.create()
    const host = `web-${crypto.randomUUID().slice(0, 8)}.example`
    const did = `did:web:${host}`
    fakeUpstreams({
      [`https://${host}`]: () =>
        json({
          id: did,
          verificationMethod: [
            {
              id: `${did}#atproto`,
              type: 'Multikey',
              controller: did,
              publicKeyMultibase: key.did().slice('did:key:'.length),
            },
          ],
          service: [
            {
              id: '#atproto_pds',
              type: ATPROTO_PDS_SERVICE_TYPE,
              serviceEndpoint: config.publicUrl,
            },
          ],
        }),
    })
    try {
      const account = await createMigratingAccount(did, key)
      const res = await xrpcPost(
        'com.atproto.identity.requestPlcOperationSignature',
        undefined,
        account.accessJwt,
      )
      expect(res.status).toBe(400)
      expect(res.body).toEqual({
        error: 'InvalidRequest',
        message: `PLC operations apply to did:plc accounts only, not to ${did}`,
      })
      const row = await env.DB.prepare('SELECT 1 FROM account_token WHERE did = ?')
        .bind(did)
        .first()
      expect(row).toBeNull()
    } finally {
      vi.restoreAllMocks()
    }
  })
})

describe('signPlcOperation (moving out)', () => {
  it('refuses a missing, wrong, expired or used token and signs with a fresh one', async () => {
    const account = await createTestAccount('plcsign')
    const before = await auditLength(account.did)

    const none = await sign(account, {})
    expect(none.status).toBe(400)
    expect(none.body).toMatchObject({ error: 'InvalidRequest' })
    const wrong = await sign(account, { token: 'ABCDE-FGHJK' })
    expect(wrong.status).toBe(400)
    expect(wrong.body).toMatchObject({ error: 'InvalidToken' })

    const stale = await plcToken(account)
    await env.DB.prepare(
      "UPDATE account_token SET requested_at = ? WHERE did = ? AND purpose = 'plc_operation'",
    )
      .bind(new Date(Date.now() - 16 * 60 * 1000).toISOString(), account.did)
      .run()
    const expired = await sign(account, { token: stale })
    expect(expired.status).toBe(400)
    expect(expired.body).toMatchObject({ error: 'ExpiredToken' })

    const token = await plcToken(account)
    const last = await plc.getLastOperation(account.did)
    const newKey = await Secp256k1Keypair.create()
    const services = {
      atproto_pds: { type: ATPROTO_PDS_SERVICE_TYPE, endpoint: 'https://new-pds.example.com' },
    }
    // Typed back by a person: case and spaces are forgiven.
    const res = await sign(account, {
      token: ` ${token.toLowerCase()} `,
      verificationMethods: { atproto: newKey.did() },
      services,
    })
    expect(res.status).toBe(200)
    const op = res.body.operation
    expect(op).toMatchObject({
      type: 'plc_operation',
      prev: await cidForPlcOperation(last),
      verificationMethods: { atproto: newKey.did() },
      services,
      // Fields not given are the DID's current ones.
      rotationKeys: last.type === 'plc_operation' ? last.rotationKeys : [],
      alsoKnownAs: [`at://${account.handle}`],
    })
    expect(await verifyPlcOperation(op, [await ourRotationKey()])).toBe(await ourRotationKey())
    // Signing submits nothing.
    expect(await auditLength(account.did)).toBe(before)

    const reused = await sign(account, { token })
    expect(reused.status).toBe(400)
    expect(reused.body).toMatchObject({ error: 'InvalidToken' })
  })

  it('refuses malformed fields with a clear 400, leaving the token usable', async () => {
    const account = await createTestAccount('plcbadfld')
    const token = await plcToken(account)
    for (const fields of [
      { verificationMethods: 'did:key:z' },
      { verificationMethods: { atproto: 'not a did:key' } },
      { services: { atproto_pds: { endpoint: 'https://x.example.com' } } },
      { rotationKeys: [] },
    ]) {
      const res = await sign(account, { token, ...fields })
      expect(res.status, JSON.stringify(fields)).toBe(400)
      expect(res.body).toMatchObject({ error: 'InvalidRequest' })
      expect(String(res.body.message)).toMatch(/PLC operation|verificationMethods|services/)
    }
    expect((await sign(account, { token })).status).toBe(200)
  })

  it('needs a full-access session', async () => {
    const account = await createTestAccount('plcsignapp')
    const app = await appPasswordSession(account)
    const token = await plcToken(account)
    expectWrongSessionKind(await sign(app, { token }))
  })
})

describe('a DID moving out', () => {
  // A PNG signature and some bytes: the blob is stored and served as is.
  const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4, 5])

  it('deactivates with its own tokens and still exports its repo and blobs', async () => {
    const account = await createTestAccount('leaving')
    const upload = await SELF.fetch(`${BASE}/xrpc/com.atproto.repo.uploadBlob`, {
      method: 'POST',
      headers: { authorization: `Bearer ${account.accessJwt}`, 'content-type': 'image/png' },
      body: PNG,
    })
    expect(upload.status).toBe(200)
    const { blob } = (await upload.json()) as { blob: { ref: { $link: string } } }
    const post = await xrpcPost(
      'com.atproto.repo.createRecord',
      {
        repo: account.did,
        collection: 'app.bsky.feed.post',
        record: {
          $type: 'app.bsky.feed.post',
          text: 'moving soon',
          createdAt: new Date().toISOString(),
          embed: { $type: 'app.bsky.embed.images', images: [{ alt: 'x', image: blob }] },
        },
      },
      account.accessJwt,
    )
    expect(post.status).toBe(200)
    const signingKeyHere = (await plc.getDocumentData(account.did)).verificationMethods.atproto!

    // The new host's credentials: its endpoint, key and rotation key.
    const newHost = await Secp256k1Keypair.create()
    const res = await sign(account, {
      token: await plcToken(account),
      rotationKeys: [newHost.did()],
      verificationMethods: { atproto: newHost.did() },
      services: {
        atproto_pds: { type: ATPROTO_PDS_SERVICE_TYPE, endpoint: 'https://new-pds.example.com' },
      },
    })
    expect(res.status).toBe(200)
    // The new host submits it.
    await plc.submitOperation(account.did, res.body.operation)
    const data = await plc.getDocumentData(account.did)
    expect(data.services.atproto_pds?.endpoint).toBe('https://new-pds.example.com')

    // Our key is no longer a rotation key: nothing more is signed here.
    const after = await sign(account, { token: await plcToken(account) })
    expect(after.status).toBe(400)
    expect(String(after.body.message)).toMatch(/rotation key/)

    const deactivate = await xrpcPost('com.atproto.server.deactivateAccount', {}, account.accessJwt)
    expect(deactivate.status).toBe(200)

    // The public gets RepoDeactivated; the account itself (and only it) still reads.
    const other = await createTestAccount('bystander')
    for (const token of [undefined, other.accessJwt]) {
      const repo = await xrpcGet('com.atproto.sync.getRepo', { did: account.did }, token)
      expect(repo.status).toBe(400)
      expect(repo.body).toMatchObject({ error: 'RepoDeactivated' })
      const blobs = await xrpcGet('com.atproto.sync.listBlobs', { did: account.did }, token)
      expect(blobs.body).toMatchObject({ error: 'RepoDeactivated' })
    }
    const repo = await SELF.fetch(
      `${BASE}/xrpc/com.atproto.sync.getRepo?did=${encodeURIComponent(account.did)}`,
      { headers: { authorization: `Bearer ${account.accessJwt}` } },
    )
    expect(repo.status).toBe(200)
    const car = new Uint8Array(await repo.arrayBuffer())
    const verified = await verifyRepoCar(car, { did: account.did, signingKey: signingKeyHere })
    expect(verified.records.map((r) => r.collection)).toEqual(['app.bsky.feed.post'])
    const latest = await xrpcGet<{ cid: string }>(
      'com.atproto.sync.getLatestCommit',
      { did: account.did },
      account.accessJwt,
    )
    expect(latest.body.cid).toBe(verified.commitCid.toString())

    const listed = await xrpcGet<{ cids: string[] }>(
      'com.atproto.sync.listBlobs',
      { did: account.did },
      account.accessJwt,
    )
    expect(listed.body.cids).toEqual([blob.ref.$link])
    const bytes = await SELF.fetch(
      `${BASE}/xrpc/com.atproto.sync.getBlob?did=${encodeURIComponent(account.did)}&cid=${blob.ref.$link}`,
      { headers: { authorization: `Bearer ${account.accessJwt}` } },
    )
    expect(bytes.status).toBe(200)
    expect(new Uint8Array(await bytes.arrayBuffer())).toEqual(PNG)

    // A bad token on a public read is refused, not ignored.
    const forged = await xrpcGet('com.atproto.sync.getRepo', { did: account.did }, 'nope')
    expect([400, 401]).toContain(forged.status)
  })
})

describe('a DID moving in', () => {
  it('createAccount → credentials → signed at the old side → submitPlcOperation → activateAccount', async () => {
    const old = await foreignDid()
    const reserved = await xrpcPost<{ signingKey: string }>(
      'com.atproto.server.reserveSigningKey',
      { did: old.did },
    )
    const account = await createMigratingAccount(old.did, old.key)
    const session = await xrpcGet('com.atproto.server.getSession', {}, account.accessJwt)
    expect(session.body).toMatchObject({ did: old.did, active: false, status: 'deactivated' })

    const creds = await credentialsOf(account)
    expect(creds.status).toBe(200)
    // The key reserved for the DID is the one the account got here.
    expect(creds.body).toEqual({
      rotationKeys: [await ourRotationKey()],
      alsoKnownAs: [`at://${account.handle}`],
      verificationMethods: { atproto: reserved.body.signingKey },
      services: {
        atproto_pds: { type: ATPROTO_PDS_SERVICE_TYPE, endpoint: config.publicUrl },
      },
    })
    const leftover = await env.DB.prepare(
      'SELECT count(*) AS n FROM reserved_signing_key WHERE id = ?',
    )
      .bind(old.did)
      .first<{ n: number }>()
    expect(leftover?.n).toBe(0)

    // Not yet: the DID still points at the old host.
    const early = await xrpcPost('com.atproto.server.activateAccount', undefined, account.accessJwt)
    expect(early.status).toBe(400)

    const op = await signedAtOldSide(old.did, old.key, creds.body)
    const submitted = await submit(account, op)
    expect(submitted.status).toBe(200)
    const data = await plc.getDocumentData(old.did)
    expect({
      rotationKeys: data.rotationKeys,
      alsoKnownAs: data.alsoKnownAs,
      verificationMethods: data.verificationMethods,
      services: data.services,
    }).toEqual(creds.body)
    const identity = (await eventsOf(old.did)).filter((e) => e.type === '#identity')
    expect(identity.at(-1)?.body).toMatchObject({ did: old.did, handle: account.handle })

    // Activation: #account, #identity, #sync together, in order, #sync at the head.
    const before = (await eventsOf(old.did)).at(-1)!.seq
    const subscriber = await subscribe(SELF, before)
    const frames = () => subscriber.frames.filter((f) => f.body.did === old.did)
    const activated = await xrpcPost(
      'com.atproto.server.activateAccount',
      undefined,
      account.accessJwt,
    )
    expect(activated.status).toBe(200)
    await subscriber.until(() => frames().length >= 3)
    subscriber.close()
    const [accountEvt, identityEvt, syncEvt] = frames()
    expect(frames().map((f) => f.header.t)).toEqual(['#account', '#identity', '#sync'])
    const seqs = frames().map((f) => f.body.seq as number)
    expect(seqs).toEqual([seqs[0], seqs[0]! + 1, seqs[0]! + 2])
    expect(accountEvt!.body).toMatchObject({ active: true })
    expect(identityEvt!.body).toMatchObject({ handle: account.handle })
    const head = await xrpcGet<{ cid: string; rev: string }>('com.atproto.sync.getLatestCommit', {
      did: old.did,
    })
    expect(syncEvt!.body.rev).toBe(head.body.rev)
    const { roots, blocks } = await readCar(syncEvt!.body.blocks as Uint8Array)
    expect(roots.map((cid: CID) => cid.toString())).toEqual([head.body.cid])
    expect([...blocks.keys()]).toEqual([head.body.cid])

    // The repo verifies against the key the PLC document now names.
    const repo = await SELF.fetch(
      `${BASE}/xrpc/com.atproto.sync.getRepo?did=${encodeURIComponent(old.did)}`,
    )
    expect(repo.status).toBe(200)
    await verifyRepoCar(new Uint8Array(await repo.arrayBuffer()), {
      did: old.did,
      signingKey: data.verificationMethods.atproto,
    })
    const status = await xrpcGet('com.atproto.server.checkAccountStatus', {}, account.accessJwt)
    expect(status.body).toMatchObject({ activated: true, validDid: true })
  })

  it('refuses operations that do not make this PDS the host, or are not validly signed', async () => {
    const old = await foreignDid()
    const account = await createMigratingAccount(old.did, old.key)
    const creds = (await credentialsOf(account)).body
    const stranger = await Secp256k1Keypair.create()
    const good = await signedAtOldSide(old.did, old.key, creds)
    const genesisCid = await cidForPlcOperation(await plc.getLastOperation(old.did))
    const cases: Array<[string, () => Promise<unknown>, RegExp]> = [
      [
        'pointing elsewhere',
        () =>
          signedAtOldSide(old.did, old.key, {
            ...creds,
            services: {
              atproto_pds: {
                type: ATPROTO_PDS_SERVICE_TYPE,
                endpoint: 'https://elsewhere.example.com',
              },
            },
          }),
        /atproto_pds endpoint/,
      ],
      [
        'with another signing key',
        () =>
          signedAtOldSide(old.did, old.key, {
            ...creds,
            verificationMethods: { atproto: stranger.did() },
          }),
        /signing key/,
      ],
      [
        'without our rotation key',
        () => signedAtOldSide(old.did, old.key, { ...creds, rotationKeys: [stranger.did()] }),
        /rotation key/,
      ],
      [
        'with another handle',
        () => signedAtOldSide(old.did, old.key, { ...creds, alsoKnownAs: ['at://someone.test'] }),
        /alsoKnownAs/,
      ],
      [
        'signed by a key that is not a rotation key',
        () => signedAtOldSide(old.did, stranger, creds),
        /not signed by one of the DID's current rotation keys/,
      ],
      [
        'changed after signing',
        async () => ({ ...good, alsoKnownAs: [...good.alsoKnownAs, 'https://extra.example'] }),
        /not signed/,
      ],
      [
        'not following the current operation',
        async () =>
          signPlcOperation(
            {
              ...good,
              prev: (await cidForPlcOperation(good)).toString(),
            },
            old.key,
          ),
        /prev must be/,
      ],
      [
        'a tombstone',
        async () => signPlcOperation({ type: 'plc_tombstone', prev: genesisCid }, old.key),
        /plc_operation/,
      ],
      ['not an operation', async () => 'garbage', /must be an object/],
      [
        'an operation without a signature',
        async () => ({ ...good, sig: undefined }),
        /Invalid PLC operation/,
      ],
    ]
    const before = await auditLength(old.did)
    for (const [label, make, message] of cases) {
      const res = await submit(account, await make())
      expect(res.status, label).toBe(400)
      expect(res.body, label).toMatchObject({ error: 'InvalidRequest' })
      expect(String(res.body.message), label).toMatch(message)
    }
    expect(await auditLength(old.did)).toBe(before)
    expect((await plc.getDocumentData(old.did)).services.atproto_pds?.endpoint).toBe(OLD_PDS)

    // An app password may not, and the good operation still goes through afterwards.
    expectWrongSessionKind(await submit(await appPasswordSession(account), good))
    expect((await submit(account, good)).status).toBe(200)
    expect(await auditLength(old.did)).toBe(before + 1)
  })
})

describe('getServiceAuth for createAccount', () => {
  it('stays refused to app passwords, so none can start moving an account away', async () => {
    const account = await createTestAccount('svcauth')
    const params = { aud: 'did:web:new-pds.example.com', lxm: 'com.atproto.server.createAccount' }
    const app = await appPasswordSession(account)
    const refused = await xrpcGet('com.atproto.server.getServiceAuth', params, app.accessJwt)
    expect(refused.status).toBe(400)
    const granted = await xrpcGet('com.atproto.server.getServiceAuth', params, account.accessJwt)
    expect(granted.status).toBe(200)
  })
})
