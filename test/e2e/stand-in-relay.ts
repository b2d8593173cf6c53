/**
 * A stand-in relay on loopback for the relay doctor's end-to-end test: it serves
 * `getHostStatus`, `getRepoStatus` and `requestCrawl` for one PDS host, and consumes that
 * host's firehose with `@atproto/sync` (Lexicon validation, commit signatures and proofs,
 * identity resolution) the way a relay does:
 *
 * - `requestCrawl` (re)starts the consumer from the last seq it holds;
 * - a `FutureCursor` refusal makes it give up (no more reconnects; the host shows `offline`);
 * - it remembers each repo's rev from `#commit` and `#sync` and checks each `#sync` as a
 *   sync 1.1 relay would (the commit block's signature, its rev, newer than the one held);
 * - seqs must only grow.
 *
 * The test can make it lose state as a real relay might: forget the host, hold a seq above the
 * host's, keep a repo at an older rev or drop it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { IdResolver } from '@atproto/identity'
import { type Commit, cborToLex, verifyCommitSig } from '@atproto/repo'
import { type Event, Firehose, FirehoseSubscriptionError } from '@atproto/sync'

export interface RelayRepo {
  rev: string
  active: boolean
}

export class StandInRelay {
  url = ''
  /** Our view of the host. */
  known = false
  seq = 0
  readonly repos = new Map<string, RelayRepo>()
  /** #sync events ignored because the relay already held their rev or a later one. */
  readonly ignoredSyncs: Event[] = []
  /** Every call received, in order. */
  readonly calls: { nsid: string; params: Record<string, string>; body: unknown; at: number }[] = []
  /** Events accepted from the firehose, in order. */
  readonly accepted: Event[] = []
  /** Errors of the consumer but FutureCursor refusals (which are in `refusals`). */
  readonly errors: Error[] = []
  readonly refusals: string[] = []
  private firehose: Firehose | null = null
  private server: Server | null = null
  private readonly pdsWsUrl: string
  private readonly hostname: string
  private readonly idResolver: IdResolver

  constructor(opts: { pdsUrl: string; hostname: string; idResolver: IdResolver }) {
    this.pdsWsUrl = opts.pdsUrl.replace(/^http/, 'ws')
    this.hostname = opts.hostname
    this.idResolver = opts.idResolver
  }

  get consuming(): boolean {
    return this.firehose !== null
  }

  async listen(): Promise<void> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err) => {
        res.statusCode = 500
        res.end(String(err))
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    this.server = server
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  }

  crawls(since = 0): number {
    return this.calls.filter((c) => c.nsid === 'com.atproto.sync.requestCrawl' && c.at >= since)
      .length
  }

  /** Loses all memory of the host, as after the relay's own state was reset. */
  async forget(): Promise<void> {
    await this.stopConsuming()
    this.known = false
    this.seq = 0
    this.repos.clear()
  }

  /** Holds `seq` for the host and reconnects from it (refused while it is ahead of the host). */
  async holdSeq(seq: number): Promise<void> {
    await this.stopConsuming()
    this.seq = seq
    this.startConsuming()
  }

  async close(): Promise<void> {
    await this.stopConsuming()
    const server = this.server
    if (!server) return
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://relay')
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const text = Buffer.concat(chunks).toString('utf8')
    const nsid = url.pathname.replace('/xrpc/', '')
    const params = Object.fromEntries(url.searchParams)
    this.calls.push({ nsid, params, body: text ? JSON.parse(text) : null, at: Date.now() })
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
    }

    if (nsid === 'com.atproto.sync.requestCrawl') {
      if ((JSON.parse(text) as { hostname?: string }).hostname !== this.hostname) {
        return send(400, { error: 'InvalidRequest', message: 'not the host under test' })
      }
      this.known = true
      if (!this.firehose) this.startConsuming()
      return send(200, {})
    }
    if (nsid === 'com.atproto.sync.getHostStatus') {
      if (!this.known || params.hostname !== this.hostname) {
        return send(400, { error: 'HostNotFound', message: 'host not found' })
      }
      return send(200, {
        hostname: this.hostname,
        seq: this.seq,
        accountCount: this.repos.size,
        status: this.firehose ? 'active' : 'offline',
      })
    }
    if (nsid === 'com.atproto.sync.getRepoStatus') {
      const repo = this.repos.get(params.did ?? '')
      if (!repo) return send(400, { error: 'RepoNotFound', message: 'repo not found' })
      return send(200, { did: params.did, active: repo.active, rev: repo.rev })
    }
    send(501, { error: 'MethodNotImplemented', message: nsid })
  }

  /**
   * Which consumer is current: a destroyed consumer may still hand over events it had already
   * read (its handlers are asynchronous), and those must not land on the state a `forget`
   * cleared, as a real relay's reset would not see them either.
   */
  private generation = 0

  private startConsuming(): void {
    const generation = ++this.generation
    const firehose = new Firehose({
      service: this.pdsWsUrl,
      idResolver: this.idResolver,
      getCursor: () => this.seq,
      subscriptionReconnectDelay: 200,
      handleEvent: (evt) => this.accept(evt, generation),
      onError: (err) => {
        const cause = err instanceof FirehoseSubscriptionError ? err.cause : null
        if ((cause as { error?: string } | null)?.error === 'FutureCursor') {
          // A relay gives up on a host that answers its cursor with FutureCursor.
          this.refusals.push('FutureCursor')
          if (this.firehose === firehose) this.firehose = null
          void firehose.destroy()
          return
        }
        this.errors.push(err)
      },
    })
    this.firehose = firehose
    void firehose.start()
  }

  private async stopConsuming(): Promise<void> {
    const firehose = this.firehose
    this.firehose = null
    this.generation++
    await firehose?.destroy()
  }

  private async accept(evt: Event, generation: number): Promise<void> {
    if (generation !== this.generation) return
    if (evt.seq < this.seq) throw new Error(`seq went back: ${evt.seq} after ${this.seq}`)
    this.seq = evt.seq
    if (evt.event === 'sync') {
      // What a sync 1.1 relay checks before it takes a #sync as the repo's state. The rev is
      // compared, and taken, in arrival order, before the awaits below: events after this one
      // may be handled while they run.
      const held = this.repos.get(evt.did)
      if (held && held.rev >= evt.rev) {
        // A relay ignores a #sync no newer than what it holds (a redundant one: the doctor can
        // sample a repo while the relay is still replaying the commit that brings it there).
        this.ignoredSyncs.push(evt)
        return
      }
      this.repos.set(evt.did, { rev: evt.rev, active: held?.active ?? true })
      const block = evt.blocks.get(evt.cid)
      if (!block) throw new Error(`#sync for ${evt.did} without its commit block`)
      const commit = cborToLex(block) as unknown as Commit
      const key = await this.idResolver.did.resolveAtprotoKey(evt.did)
      if (!(await verifyCommitSig(commit, key))) throw new Error(`bad #sync signature ${evt.did}`)
      if (commit.rev !== evt.rev || commit.did !== evt.did) throw new Error('#sync mismatch')
    } else if (evt.event === 'create' || evt.event === 'update' || evt.event === 'delete') {
      this.repos.set(evt.did, { rev: evt.rev, active: true })
    } else if (evt.event === 'account') {
      const held = this.repos.get(evt.did)
      if (held) held.active = evt.active
    }
    this.accepted.push(evt)
  }
}
