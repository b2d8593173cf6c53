/**
 * Spot checks of the generated method types. The `expectTypeOf` lines are checked by tsc
 * (`npm run typecheck` covers test/unit), not at run time; the last test checks at run time
 * that every method Lexicon has an entry.
 */
import { readFileSync } from 'node:fs'
import type { CID } from 'multiformats/cid'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { METHOD_TYPES_FILE } from '../../scripts/build-lexicons.ts'
import type { BlobRef } from '../../src/data/blob-ref.ts'
import { lexiconDocs } from '../../src/lexicon/generated/lexicons.ts'
import type {
  AppBskyFeedDefs,
  AppBskyFeedPost,
  BlobValue,
  ComAtprotoRepoApplyWrites,
  ComAtprotoSyncSubscribeRepos,
  LegacyBlobJson,
  RawBody,
  UnknownVariant,
  XrpcMethodTypes,
  XrpcNsid,
} from '../../src/lexicon/generated/method-types.ts'
import type { LexiconDoc } from '../../src/lexicon/types.ts'

type Method<N extends XrpcNsid> = XrpcMethodTypes[N]

describe('generated method types', () => {
  it('type applyWrites input as a closed union of writes, each with its $type', () => {
    type Input = Method<'com.atproto.repo.applyWrites'>['input']
    type Write = Input['writes'][number]
    expectTypeOf<Input['repo']>().toEqualTypeOf<string>()
    expectTypeOf<Input['validate']>().toEqualTypeOf<boolean | undefined>()
    expectTypeOf<Write['$type']>().toEqualTypeOf<
      | 'com.atproto.repo.applyWrites#create'
      | 'com.atproto.repo.applyWrites#update'
      | 'com.atproto.repo.applyWrites#delete'
    >()
    expectTypeOf<
      Extract<Write, { $type: 'com.atproto.repo.applyWrites#create' }>
    >().toExtend<ComAtprotoRepoApplyWrites.Create>()
    expectTypeOf<ComAtprotoRepoApplyWrites.Create['rkey']>().toEqualTypeOf<string | undefined>()
    expectTypeOf<ComAtprotoRepoApplyWrites.Create['value']>().toEqualTypeOf<unknown>()
    expectTypeOf<keyof Method<'com.atproto.repo.applyWrites'>['params']>().toEqualTypeOf<never>()
  })

  it('type createSession output with required, optional and knownValues fields', () => {
    type Output = Method<'com.atproto.server.createSession'>['output']
    expectTypeOf<Output['accessJwt']>().toEqualTypeOf<string>()
    expectTypeOf<Output['active']>().toEqualTypeOf<boolean | undefined>()
    expectTypeOf<Output['didDoc']>().toEqualTypeOf<unknown>()
    expectTypeOf<'deactivated'>().toExtend<NonNullable<Output['status']>>()
    expectTypeOf<'a status from the future'>().toExtend<NonNullable<Output['status']>>()
  })

  it('mark non-JSON bodies as RawBody and absent ones as undefined', () => {
    expectTypeOf<Method<'com.atproto.sync.getRepo'>['output']>().toEqualTypeOf<RawBody>()
    expectTypeOf<Method<'com.atproto.sync.getRepo'>['input']>().toEqualTypeOf<undefined>()
    expectTypeOf<Method<'com.atproto.repo.uploadBlob'>['input']>().toEqualTypeOf<RawBody>()
    expectTypeOf<Method<'com.atproto.sync.requestCrawl'>['output']>().toEqualTypeOf<undefined>()
  })

  it('use the data-model types for links, bytes and blobs', () => {
    expectTypeOf<ComAtprotoSyncSubscribeRepos.Commit['commit']>().toEqualTypeOf<CID>()
    expectTypeOf<ComAtprotoSyncSubscribeRepos.Commit['blocks']>().toEqualTypeOf<Uint8Array>()
    type Uploaded = Method<'com.atproto.repo.uploadBlob'>['output']['blob']
    expectTypeOf<Uploaded>().toEqualTypeOf<BlobValue>()
    expectTypeOf<BlobValue>().toEqualTypeOf<BlobRef | LegacyBlobJson>()
  })

  it('type params as validate-params produces them: defaults make a param present', () => {
    type Params = Method<'com.atproto.repo.listRecords'>['params']
    expectTypeOf<Params['limit']>().toEqualTypeOf<number>()
    expectTypeOf<Params['cursor']>().toEqualTypeOf<string | undefined>()
    expectTypeOf<Params['reverse']>().toEqualTypeOf<boolean | undefined>()
  })

  it('type nullable fields, open unions and tokens', () => {
    type PutInput = Method<'com.atproto.repo.putRecord'>['input']
    expectTypeOf<PutInput['swapRecord']>().toEqualTypeOf<string | null | undefined>()
    expectTypeOf<UnknownVariant>().toExtend<NonNullable<AppBskyFeedPost.Record['embed']>>()
    expectTypeOf<AppBskyFeedPost.Record['$type']>().toEqualTypeOf<'app.bsky.feed.post'>()
    expectTypeOf<AppBskyFeedDefs.RequestLess>().toEqualTypeOf<'app.bsky.feed.defs#requestLess'>()
  })

  it('have one entry for every query, procedure and subscription', () => {
    const text = readFileSync(METHOD_TYPES_FILE, 'utf8')
    const methods = (lexiconDocs as LexiconDoc[])
      .filter((doc) => ['query', 'procedure', 'subscription'].includes(doc.defs.main?.type ?? ''))
      .map((doc) => doc.id)
    const entries = [...text.matchAll(/^ {2}'([\w.]+)': \{ params: /gm)].map((m) => m[1])
    expect(methods.length).toBeGreaterThan(250)
    expect(entries).toEqual(methods.sort())
  })
})
