/**
 * Permission sets resolved as Lexicons (src/identity/lexicon-resolver.ts), loopback: the
 * authority's repo is an account on this very PDS (its DID in the local PLC directory, its
 * schema record written with createRecord), fetched through the Worker with its proof. Only
 * the DNS step (`_lexicon.<authority>` TXT) is a stand-in, since no test may reach DNS.
 */
import { SELF } from 'cloudflare:test'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import {
  allows,
  cachingPermissionSetResolver,
  grantScope,
  parseScope,
} from '../../src/auth/scopes/index.ts'
import { DidResolver } from '../../src/identity/did-resolver.ts'
import {
  LEXICON_SCHEMA_COLLECTION,
  LexiconResolutionError,
  type LexiconResolverDeps,
  resolveLexicon,
} from '../../src/identity/lexicon-resolver.ts'
import { repoPermission, rpcPermission } from '../../src/xrpc/permission.ts'
import { createTestAccount, type TestAccount, xrpcPost } from './helpers/xrpc.ts'

const NSID = 'app.scopesexample.authBasic'
const APPVIEW = 'did:web:api.example.com#svc_appview'

function schema(nsid: string) {
  return {
    $type: LEXICON_SCHEMA_COLLECTION,
    lexicon: 1,
    id: nsid,
    defs: {
      main: {
        type: 'permission-set',
        title: 'Basic',
        detail: 'Posts and the feed',
        permissions: [
          { type: 'permission', resource: 'repo', collection: ['app.scopesexample.post'] },
          {
            type: 'permission',
            resource: 'rpc',
            inheritAud: true,
            lxm: ['app.scopesexample.getFeed'],
          },
        ],
      },
    },
  }
}

async function publish(account: TestAccount, nsid: string): Promise<void> {
  const res = await xrpcPost(
    'com.atproto.repo.createRecord',
    { repo: account.did, collection: LEXICON_SCHEMA_COLLECTION, rkey: nsid, record: schema(nsid) },
    account.accessJwt,
  )
  expect(res.status, JSON.stringify(res.body)).toBe(200)
}

let author: TestAccount
let other: TestAccount
const asked: string[] = []

function deps(authorityDid: () => string, rewrite?: (url: URL) => void): LexiconResolverDeps {
  return {
    txtDid: async (name) => {
      asked.push(name)
      return authorityDid()
    },
    didResolver: new DidResolver({ plcUrl: inject('plcUrl'), devMode: true }),
    devMode: true,
    fetch: (input, init) => {
      const url = new URL(input)
      rewrite?.(url)
      return SELF.fetch(url.toString(), init)
    },
  }
}

beforeAll(async () => {
  author = await createTestAccount('lexauthor')
  other = await createTestAccount('lexother')
  await publish(author, NSID)
  await publish(other, NSID)
})

describe('resolveLexicon', () => {
  it('finds the schema in the authority DID’s repo, proven by its signed commit', async () => {
    const resolved = await resolveLexicon(
      NSID,
      deps(() => author.did),
    )
    expect(resolved.did).toBe(author.did)
    expect(resolved.document).toEqual(schema(NSID))
    expect(asked.at(-1)).toBe('_lexicon.scopesexample.app')
  })

  it('refuses a proof from another repo than the authority’s', async () => {
    const swapped = deps(
      () => author.did,
      (url) => url.searchParams.set('did', other.did),
    )
    await expect(resolveLexicon(NSID, swapped)).rejects.toThrow(/not signed by/)
  })

  it('fails when the authority has no DID or published no such schema', async () => {
    await expect(
      resolveLexicon(NSID, { ...deps(() => author.did), txtDid: async () => null }),
    ).rejects.toThrow(LexiconResolutionError)
    await expect(
      resolveLexicon(
        'app.scopesexample.authMissing',
        deps(() => author.did),
      ),
    ).rejects.toThrow()
  })

  it('grants an include: through it, the permissions expanded for access tokens', async () => {
    const resolver = cachingPermissionSetResolver(
      async (nsid) =>
        (
          await resolveLexicon(
            nsid,
            deps(() => author.did),
          )
        ).document,
    )
    const grant = await grantScope(
      `atproto include:${NSID}?aud=${APPVIEW.replace('#', '%23')}`,
      resolver,
    )
    const token = parseScope(grant.tokenScope)
    expect(allows(token, repoPermission('app.scopesexample.post', 'create'))).toBe(true)
    expect(allows(token, rpcPermission('app.scopesexample.getFeed', APPVIEW))).toBe(true)
    expect(allows(token, repoPermission('app.bsky.feed.post', 'create'))).toBe(false)
  })
})

describe('cachingPermissionSetResolver', () => {
  it('resolves again once stale, and keeps a stale set while resolution fails', async () => {
    let clock = 0
    let calls = 0
    let failing = false
    const resolver = cachingPermissionSetResolver(
      async (nsid) => {
        calls++
        if (failing) throw new Error('offline')
        return { lexicon: 1, id: nsid, defs: { main: schema(nsid).defs.main } }
      },
      () => clock,
    )
    await resolver.resolve(NSID)
    await resolver.resolve(NSID)
    expect(calls).toBe(1)
    clock += 2 * 60 * 60 * 1000
    failing = true
    await expect(resolver.resolve(NSID)).resolves.toMatchObject({ title: 'Basic' })
    expect(calls).toBe(2)
    clock += 91 * 24 * 60 * 60 * 1000
    await expect(resolver.resolve(NSID)).rejects.toThrow('offline')
    await expect(resolver.resolve('app.scopesexample.authNever')).rejects.toThrow('offline')
  })
})
