/**
 * How many firehose subscribers the sequencer accepts: at most `perAddress` from one client
 * address and `total` in all (PDS_FIREHOSE_MAX_SUBSCRIBERS_PER_IP, PDS_FIREHOSE_MAX_SUBSCRIBERS).
 * Every subscriber lives on the one object that sequences all writes, so an unbounded number
 * of them (each replaying the window) would slow every account's writes.
 *
 * The counts come from the object's accepted WebSockets and their tags, not from a counter in
 * memory, so they stay right after the object hibernates and wakes up again.
 */
import { RateLimitExceededError } from '../xrpc/errors.ts'

export type SubscriberLimits = { total: number; perAddress: number }

/** The slice of `DurableObjectState` the check uses. */
export interface SubscriberSockets {
  getWebSockets(tag?: string): WebSocket[]
}

/**
 * The tag that groups one client's sockets: its address as Cloudflare reports it
 * (`cf-connecting-ip`), an IPv6 address by its /64 (one customer's network, where every
 * address is theirs to use). Without the header (local development) everyone is one client.
 */
export function subscriberTag(request: Request): string {
  // Tags are at most 256 characters; a real address is far shorter.
  const ip = request.headers.get('cf-connecting-ip')?.trim().slice(0, 64)
  if (!ip) return 'ip:local'
  return `ip:${ip.includes(':') ? ipv6Prefix64(ip) : ip}`
}

/** Throws RateLimitExceededError (429) when a subscriber tagged `tag` would pass a limit. */
export function admitSubscriber(
  sockets: SubscriberSockets,
  tag: string,
  limits: SubscriberLimits,
): void {
  if (openCount(sockets.getWebSockets()) >= limits.total) {
    throw new RateLimitExceededError(
      60,
      `This server already has its maximum of ${limits.total} firehose subscribers: try again later`,
    )
  }
  if (openCount(sockets.getWebSockets(tag)) >= limits.perAddress) {
    throw new RateLimitExceededError(
      60,
      `At most ${limits.perAddress} firehose subscriptions per client address: close one first`,
    )
  }
}

/** A socket the server closed may be listed until the client answers; it holds no slot. */
function openCount(sockets: WebSocket[]): number {
  let n = 0
  for (const ws of sockets) if (ws.readyState === WebSocket.OPEN) n++
  return n
}

/**
 * The first four groups of an IPv6 address without leading zeros (`2001:db8:0:1`); the IPv4
 * address of an IPv4-mapped one; the input itself if malformed.
 */
export function ipv6Prefix64(ip: string): string {
  const address = ip
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .split('%')[0]!
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(address)
  if (mapped) return mapped[1]!
  const halves = address.split('::')
  if (halves.length > 2) return address
  const head = halves[0] ? halves[0].split(':') : []
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : []
  // An embedded IPv4 tail (::ffff:1.2.3.4) takes two groups.
  const tailGroups = tail.length + (tail.at(-1)?.includes('.') ? 1 : 0)
  const missing = halves.length === 2 ? 8 - head.length - tailGroups : 0
  const groups = [...head, ...Array<string>(Math.max(0, missing)).fill('0'), ...tail]
  if (groups.length < 4 || !groups.slice(0, 4).every((g) => /^[0-9a-f]{1,4}$/.test(g))) {
    return address
  }
  return groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')
}
