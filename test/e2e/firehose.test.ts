/**
 * A relay's view of our firehose, end to end: `@atproto/sync`'s Firehose (lexicon validation,
 * commit signatures and record proofs, identity resolution against the local PLC) subscribed
 * to the running PDS while accounts are created, records written (a 200-op applyWrites among
 * them), handles changed and accounts deactivated and reactivated. Beside it, a raw
 * subscription checks each of our frames the way sync 1.1 relays do, with @atproto/repo's own
 * MST: signature, `rev`/`since`/`prevData` chaining, and inversion of the ops back to
 * `prevData`.
 */
import { AtpAgent } from '@atproto/api'
import { type IdentityResolverOpts, IdResolver } from '@atproto/identity'
import {
  type Commit,
  cborToLex,
  MemoryBlockstore,
  MST,
  readCarWithRoot,
  verifyCommitSig,
} from '@atproto/repo'
import { type Event, Firehose } from '@atproto/sync'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { type DecodedFrame, decodeFrame } from '../../src/sequencer/frame.ts'

const pdsUrl = inject('pdsUrl')
const plcUrl = inject('plcUrl')
const wsUrl = pdsUrl.replace(/^http/, 'ws')
const password = 'correct horse battery staple'

type Op = { action: 'create' | 'update' | 'delete'; uri: string; cid: string | null }

async function newAgent(prefix: string): Promise<AtpAgent> {
  const agent = new AtpAgent({ service: pdsUrl })
  const handle = `${prefix}${Math.random().toString(36).slice(2, 10)}.test`
  await agent.createAccount({ handle, email: `${handle}@example.com`, password })
  return agent
}

/** Every frame of the stream from cursor 0, in arrival order. */
class RawSubscriber {
  readonly frames: { frame: DecodedFrame; size: number }[] = []
  private readonly socket: WebSocket

  constructor(cursor: number) {
    this.socket = new WebSocket(`${wsUrl}/xrpc/com.atproto.sync.subscribeRepos?cursor=${cursor}`)
    this.socket.binaryType = 'arraybuffer'
    this.socket.addEventListener('message', (event) => {
      const bytes = new Uint8Array(event.data as ArrayBuffer)
      this.frames.push({ frame: decodeFrame(bytes), size: bytes.length })
    })
  }

  close(): void {
    this.socket.close()
  }
}

async function waitFor(what: string, test: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

const idResolver = new IdResolver({
  plcUrl,
  // The default fetch refuses loopback addresses; the local directory is one.
  fetch: globalThis.fetch as IdentityResolverOpts['fetch'],
})

describe('the firehose as a relay sees it', () => {
  const events: Event[] = []
  const errors: Error[] = []
  const raw = new RawSubscriber(0)
  const firehose = new Firehose({
    service: wsUrl,
    idResolver,
    getCursor: () => 0,
    handleEvent: (evt) => {
      events.push(evt)
    },
    onError: (err) => {
      errors.push(err)
    },
  })
  void firehose.start()

  afterAll(async () => {
    raw.close()
    await firehose.destroy()
  })

  it('validates every event, and every write appears once, in order', async () => {
    const alice = await newAgent('fha')
    const bob = await newAgent('fhb')
    const aliceDid = alice.session!.did
    const bobDid = bob.session!.did
    const ours = new Set([aliceDid, bobDid])
    const expected = new Map<string, Op[]>([
      [aliceDid, []],
      [bobDid, []],
    ])
    const record = (did: string, op: Op) => expected.get(did)!.push(op)

    // Ordinary writes.
    const profile = await alice.com.atproto.repo.putRecord({
      repo: aliceDid,
      collection: 'app.bsky.actor.profile',
      rkey: 'self',
      record: { $type: 'app.bsky.actor.profile', displayName: 'Alice' },
    })
    record(aliceDid, { action: 'create', uri: profile.data.uri, cid: profile.data.cid })
    const posts = []
    for (let i = 0; i < 5; i++) {
      const p = await alice.post({ text: `post ${i}`, createdAt: new Date().toISOString() })
      record(aliceDid, { action: 'create', uri: p.uri, cid: p.cid })
      posts.push(p)
    }
    const bobPost = await bob.post({ text: 'hi alice', createdAt: new Date().toISOString() })
    record(bobDid, { action: 'create', uri: bobPost.uri, cid: bobPost.cid })
    const like = await alice.like(bobPost.uri, bobPost.cid)
    record(aliceDid, { action: 'create', uri: like.uri, cid: like.cid })
    const follow = await alice.follow(bobDid)
    record(aliceDid, { action: 'create', uri: follow.uri, cid: follow.cid })

    // A 200-op applyWrites.
    const batch = await alice.com.atproto.repo.applyWrites({
      repo: aliceDid,
      writes: Array.from({ length: 200 }, (_, i) => ({
        $type: 'com.atproto.repo.applyWrites#create' as const,
        collection: 'app.bsky.feed.post',
        value: {
          $type: 'app.bsky.feed.post',
          text: `bulk ${i}`,
          createdAt: new Date().toISOString(),
        },
      })),
    })
    for (const result of batch.data.results ?? []) {
      const r = result as { uri: string; cid: string }
      record(aliceDid, { action: 'create', uri: r.uri, cid: r.cid })
    }
    expect(batch.data.results).toHaveLength(200)

    // Updates and deletes, alone and mixed.
    const rkey = (uri: string) => uri.split('/').pop()!
    const edited = await alice.com.atproto.repo.putRecord({
      repo: aliceDid,
      collection: 'app.bsky.feed.post',
      rkey: rkey(posts[1]!.uri),
      record: { $type: 'app.bsky.feed.post', text: 'edited', createdAt: new Date().toISOString() },
    })
    record(aliceDid, { action: 'update', uri: edited.data.uri, cid: edited.data.cid })
    await alice.deletePost(posts[2]!.uri)
    record(aliceDid, { action: 'delete', uri: posts[2]!.uri, cid: null })
    const mixed = await alice.com.atproto.repo.applyWrites({
      repo: aliceDid,
      writes: [
        {
          $type: 'com.atproto.repo.applyWrites#create',
          collection: 'app.bsky.feed.post',
          value: {
            $type: 'app.bsky.feed.post',
            text: 'mixed',
            createdAt: new Date().toISOString(),
          },
        },
        {
          $type: 'com.atproto.repo.applyWrites#update',
          collection: 'app.bsky.feed.post',
          rkey: rkey(posts[3]!.uri),
          value: {
            $type: 'app.bsky.feed.post',
            text: 'mixed edit',
            createdAt: new Date().toISOString(),
          },
        },
        {
          $type: 'com.atproto.repo.applyWrites#delete',
          collection: 'app.bsky.feed.post',
          rkey: rkey(posts[4]!.uri),
        },
      ],
    })
    const [mc, mu] = mixed.data.results as { uri: string; cid: string }[]
    record(aliceDid, { action: 'create', uri: mc!.uri, cid: mc!.cid })
    record(aliceDid, { action: 'update', uri: mu!.uri, cid: mu!.cid })
    record(aliceDid, { action: 'delete', uri: posts[4]!.uri, cid: null })
    // Several writes to one key in a commit: one op per key, its net effect.
    const post = (text: string) => ({
      $type: 'app.bsky.feed.post',
      text,
      createdAt: new Date().toISOString(),
    })
    const W = 'com.atproto.repo.applyWrites'
    const [brief, grown] = ['3jzfcijpj2z2b', '3jzfcijpj2z2c']
    const netted = await alice.com.atproto.repo.applyWrites({
      repo: aliceDid,
      writes: [
        { $type: `${W}#create`, collection: 'app.bsky.feed.post', rkey: brief, value: post('b') },
        { $type: `${W}#delete`, collection: 'app.bsky.feed.post', rkey: brief },
        {
          $type: `${W}#update`,
          collection: 'app.bsky.feed.post',
          rkey: rkey(posts[0]!.uri),
          value: post('edited, then deleted'),
        },
        { $type: `${W}#delete`, collection: 'app.bsky.feed.post', rkey: rkey(posts[0]!.uri) },
        { $type: `${W}#create`, collection: 'app.bsky.feed.post', rkey: grown, value: post('g') },
        { $type: `${W}#update`, collection: 'app.bsky.feed.post', rkey: grown, value: post('g2') },
      ],
    })
    const grownResult = netted.data.results![5] as { uri: string; cid: string }
    record(aliceDid, { action: 'delete', uri: posts[0]!.uri, cid: null })
    record(aliceDid, { action: 'create', uri: grownResult.uri, cid: grownResult.cid })

    // Identity and account lifecycle.
    const newHandle = `fha2${Math.random().toString(36).slice(2, 8)}.test`
    await alice.com.atproto.identity.updateHandle({ handle: newHandle })
    await alice.com.atproto.server.deactivateAccount({})
    await alice.com.atproto.server.activateAccount()
    const after = await alice.post({ text: 'back again', createdAt: new Date().toISOString() })
    record(aliceDid, { action: 'create', uri: after.uri, cid: after.cid })
    const last = await bob.post({ text: 'the end', createdAt: new Date().toISOString() })
    record(bobDid, { action: 'create', uri: last.uri, cid: last.cid })

    await waitFor('the last write through @atproto/sync', () =>
      events.some((e) => e.event === 'create' && e.uri.toString() === last.uri),
    )
    await waitFor('the last write on the raw stream', () =>
      raw.frames.some(
        (f) =>
          f.frame.header.t === '#commit' &&
          (f.frame.body.ops as { path: string }[]).some((op) => last.uri.endsWith(op.path)),
      ),
    )

    // No validation, parse or handler error about our accounts.
    const ourErrors = errors.filter((err) => {
      const value = err as { event?: Record<string, unknown>; value?: Record<string, unknown> }
      const subject = value.event ?? value.value
      return !subject || ours.has((subject.repo ?? subject.did) as string)
    })
    expect(ourErrors.map((err) => `${err.message}: ${String((err as Error).cause)}`)).toEqual([])

    // Every write once, in order, per account; each verified by the consumer's proof check.
    for (const [did, ops] of expected) {
      const seen = events
        .filter((e) => e.did === did && ['create', 'update', 'delete'].includes(e.event))
        .map((e) => {
          const c = e as Event & { uri: { toString(): string }; cid?: { toString(): string } }
          return {
            action: e.event as Op['action'],
            uri: c.uri.toString(),
            cid: e.event === 'delete' ? null : c.cid!.toString(),
          }
        })
      expect(seen).toEqual(ops)
    }

    // Lifecycle events as the relay reads them.
    const aliceLife = events
      .filter((e) => e.did === aliceDid && ['identity', 'account', 'sync'].includes(e.event))
      .map((e) => (e.event === 'account' ? `account:${e.active}:${e.status ?? ''}` : e.event))
    expect(aliceLife).toEqual([
      'identity',
      'account:true:',
      'sync',
      'identity',
      'account:false:deactivated',
      'account:true:',
      'identity',
      'sync',
    ])
    const handleEvents = events.filter(
      (e) => e.did === aliceDid && e.event === 'identity',
    ) as (Event & { didDocument?: { alsoKnownAs?: string[] } })[]
    expect(handleEvents[1]!.didDocument?.alsoKnownAs).toEqual([`at://${newHandle}`])

    await checkRawFrames(raw, ours)
  }, 120_000)
})

/** The checks a sync 1.1 relay makes on each frame, with @atproto/repo's implementation. */
async function checkRawFrames(raw: RawSubscriber, ours: Set<string>): Promise<void> {
  const frames = raw.frames.map((f) => f.frame)
  // One host-wide seq, strictly increasing.
  const seqs = frames.map((f) => f.body.seq as number)
  expect(seqs.filter((seq, i) => i > 0 && seq <= seqs[i - 1]!)).toEqual([])
  // Gaps are allowed (the spec says so), and this stream has one when another test file
  // deletes an account: deleteAccount purges its older events, so a replay that reads them
  // later skips their seqs. A gap must be such events: a fresh replay of the same range
  // still holds nothing this stream lacks.
  const first = seqs[0]!
  const last = seqs.at(-1)!
  const again = new RawSubscriber(first - 1)
  const againSeqs = () => again.frames.map((f) => f.frame.body.seq as number)
  await waitFor('a replay of the same range', () => (againSeqs().at(-1) ?? 0) >= last)
  again.close()
  const held = new Set(seqs)
  expect(againSeqs().filter((seq) => seq <= last && !held.has(seq))).toEqual([])
  for (const { size } of raw.frames) expect(size).toBeLessThanOrEqual(5_000_000)

  const state = new Map<string, { rev: string; data: string; active: boolean }>()
  let commits = 0
  for (const { header, body } of frames) {
    expect(header.op).toBe(1)
    const did = (body.repo ?? body.did) as string
    if (!ours.has(did)) continue
    const key = await idResolver.did.resolveAtprotoKey(did)
    if (header.t === '#account') {
      const prev = state.get(did)
      if (prev) prev.active = body.active as boolean
      continue
    }
    if (header.t !== '#commit' && header.t !== '#sync') continue
    const blocks = body.blocks as Uint8Array
    const car = await readCarWithRoot(blocks)
    const commit = cborToLex(car.blocks.get(car.root)!) as unknown as Commit
    expect(await verifyCommitSig(commit, key)).toBe(true)
    expect(commit.did).toBe(did)
    expect(commit.rev).toBe(body.rev)
    if (header.t === '#sync') {
      expect(blocks.length).toBeLessThanOrEqual(10_000)
      expect(car.blocks.size).toBe(1)
      state.set(did, {
        rev: commit.rev,
        data: commit.data.toString(),
        active: state.get(did)?.active ?? true,
      })
      continue
    }
    commits++
    expect(String(body.commit)).toBe(car.root.toString())
    expect(blocks.length).toBeLessThanOrEqual(2_000_000)
    expect(body).toMatchObject({ rebase: false, tooBig: false, blobs: [] })
    const ops = body.ops as { action: string; path: string; cid: unknown; prev?: unknown }[]
    expect(ops.length).toBeLessThanOrEqual(200)
    const prev = state.get(did)
    expect(body.since).toBe(prev?.rev ?? null)
    if (prev) {
      expect(prev.active).toBe(true)
      expect(commit.rev > prev.rev).toBe(true)
      expect(String(body.prevData)).toBe(prev.data)
    }
    // Invert the ops on the partial tree the CAR carries: it must give back prevData.
    let mst = MST.load(new MemoryBlockstore(car.blocks), commit.data)
    for (const op of ops) {
      const current = await mst.get(op.path)
      if (op.action === 'create') {
        expect(op.prev).toBeUndefined()
        expect(String(current)).toBe(String(op.cid))
        expect(car.blocks.has(current!)).toBe(true)
        mst = await mst.delete(op.path)
      } else if (op.action === 'update') {
        expect(String(current)).toBe(String(op.cid))
        mst = await mst.update(op.path, op.prev as never)
      } else {
        expect(op.cid).toBeNull()
        expect(current).toBeNull()
        mst = await mst.add(op.path, op.prev as never)
      }
    }
    if (prev) expect((await mst.getPointer()).toString()).toBe(prev.data)
    state.set(did, { rev: commit.rev, data: commit.data.toString(), active: true })
  }
  expect(commits).toBeGreaterThanOrEqual(15)
}

describe('a refused subscription', () => {
  it('sends the FutureCursor error frame, then closes the connection', async () => {
    const socket = new WebSocket(`${wsUrl}/xrpc/com.atproto.sync.subscribeRepos?cursor=999999999`)
    socket.binaryType = 'arraybuffer'
    const frames: DecodedFrame[] = []
    socket.addEventListener('message', (event) => {
      frames.push(decodeFrame(new Uint8Array(event.data as ArrayBuffer)))
    })
    const closed = new Promise<CloseEvent | 'open'>((resolve) => {
      socket.addEventListener('close', (event) => resolve(event))
      setTimeout(() => resolve('open'), 10_000)
    })
    const outcome = await closed
    if (outcome === 'open') socket.close()
    expect(frames.map((f) => f.body)).toEqual([expect.objectContaining({ error: 'FutureCursor' })])
    expect(outcome).not.toBe('open')
    expect((outcome as CloseEvent).code).toBe(1008)
  })
})
