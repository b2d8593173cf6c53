import { DurableObject } from 'cloudflare:workers'
import { getConfig } from '../src/config.ts'
import type { AppendEvent, EventLog, SequencedEvent } from '../src/sequencer/event-log.ts'
import { firehoseOptionsFor, refuseSocket } from '../src/sequencer/firehose.ts'
import { Sequencer } from '../src/sequencer/sequencer.ts'
import {
  CRAWL_REQUEST_INTERVAL_MS,
  logCrawlFailures,
  requestCrawl,
} from '../src/sync/request-crawl.ts'
import { parseCursor } from '../src/sync/subscribe-repos.ts'
import {
  admitSubscriber,
  type SubscriberLimits,
  subscriberTag,
} from '../src/sync/subscriber-limits.ts'
import { toErrorResponse } from '../src/xrpc/errors.ts'

/**
 * The host-wide event sequencer behind `com.atproto.sync.subscribeRepos`: thin glue around
 * Sequencer (src/sequencer/sequencer.ts). Subscribers are hibernatable WebSockets, so an idle
 * stream costs nothing; each socket's position is kept in its attachment.
 */
export class SequencerDurableObject extends DurableObject<Env> {
  readonly sequencer: Sequencer
  readonly limits: SubscriberLimits

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    const config = getConfig(env)
    this.limits = {
      total: config.firehoseMaxSubscribers,
      perAddress: config.firehoseMaxSubscribersPerIp,
    }
    this.sequencer = new Sequencer({
      storage: ctx.storage,
      retentionMs: config.eventRetentionHours * 3_600_000,
      crawlIntervalMs: CRAWL_REQUEST_INTERVAL_MS,
      firehose: firehoseOptionsFor(config.firehoseConsumerMibPerSecond),
      requestCrawl:
        config.crawlers.length > 0 ? () => requestCrawl(config).then(logCrawlFailures) : null,
      setAlarm: (at) => {
        ctx.storage.setAlarm(at).catch((err) => console.error('sequencer: setAlarm failed', err))
      },
    })
    void ctx.blockConcurrencyWhile(async () => {
      this.sequencer.start(await ctx.storage.getAlarm())
    })
    this.sequencer.hub.restore(ctx.getWebSockets())
  }

  get log(): EventLog {
    return this.sequencer.log
  }

  async appendEvents(did: string, events: AppendEvent[]): Promise<number> {
    return this.sequencer.append(did, events)
  }

  async getEvents(options: { after: number; limit: number }): Promise<SequencedEvent[]> {
    return this.sequencer.log.getEvents(options.after, options.limit)
  }

  /** After an account's deletion: only its `#account` deleted notice stays replayable. */
  async purgeAccount(did: string): Promise<number> {
    return this.sequencer.log.purgeAccount(did)
  }

  async latestSeq(): Promise<number> {
    return this.sequencer.log.latestSeq()
  }

  /** The relay doctor: the next seq goes above `floor` (a relay's seq for us); the latest. */
  async advanceSeq(floor: number): Promise<number> {
    return this.sequencer.log.advanceSeq(floor)
  }

  /** The replay window, for the admin page: its oldest and latest seq. */
  async windowInfo(): Promise<{ oldestSeq: number | null; latestSeq: number }> {
    return { oldestSeq: this.sequencer.log.oldestSeq(), latestSeq: this.sequencer.log.latestSeq() }
  }

  /** A subscribeRepos WebSocket upgrade, already checked by the Worker (src/sync). */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') {
      return new Response('Expected a WebSocket upgrade', { status: 426 })
    }
    const cursor = parseCursor(new URL(request.url).searchParams.get('cursor'))
    if (cursor === undefined) return new Response('Invalid cursor', { status: 400 })
    const tag = subscriberTag(request)
    try {
      admitSubscriber(this.ctx, tag, this.limits)
    } catch (err) {
      return toErrorResponse(err)
    }
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket]
    const refusal = this.sequencer.hub.refusalFor(cursor)
    if (refusal) {
      // @NOTE workerd sends the close frame of a hibernatable socket the server closes but then
      // never ends the TCP connection, even after the client's reply: a client waits forever.
      // A plain accepted socket is ended, and a refused one has nothing to hibernate for.
      server.accept()
      refuseSocket(server, refusal)
    } else {
      this.ctx.acceptWebSocket(server, [tag])
      this.sequencer.hub.subscribe(server, cursor)
    }
    return new Response(null, { status: 101, webSocket: client })
  }

  /** Servers ignore what subscribers send. */
  override async webSocketMessage(): Promise<void> {}

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    this.sequencer.hub.drop(ws)
    // 1005/1006 mean no code was received: they may not be sent back.
    if (code === 1005 || code === 1006) return
    try {
      ws.close(code, reason)
    } catch {
      // Already closed by the runtime.
    }
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    this.sequencer.hub.drop(ws)
  }

  override async alarm(): Promise<void> {
    await this.sequencer.runAlarm()
  }
}
