/**
 * The caps on firehose subscribers (src/sync/subscriber-limits.ts): per client address and in
 * total, refused with 429 before the upgrade, counted from the object's WebSockets so that the
 * counts hold across hibernation, and a closed socket gives its slot back.
 */
import { env, evictDurableObject, runInDurableObject, SELF } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { sequencerStub } from '../../src/bindings.ts'
import type { SubscriberLimits } from '../../src/sync/subscriber-limits.ts'
import type { SequencerDurableObject } from '../../worker/sequencer-durable-object.ts'
import { sequencerNamed, TestSubscriber } from './firehose-helpers.ts'

type Target = { fetch(input: string, init?: RequestInit): Promise<Response> }

/** Opens a subscription as `ip`: the socket, or the refusal. */
async function open(
  target: Target,
  ip: string,
  cursor?: number,
): Promise<TestSubscriber | Response> {
  const query = cursor === undefined ? '' : `?cursor=${cursor}`
  const res = await target.fetch(
    `http://localhost:2583/xrpc/com.atproto.sync.subscribeRepos${query}`,
    { headers: { Upgrade: 'websocket', 'cf-connecting-ip': ip } },
  )
  return res.webSocket ? new TestSubscriber(res.webSocket) : res
}

async function accepted(target: Target, ip: string, cursor?: number): Promise<TestSubscriber> {
  const result = await open(target, ip, cursor)
  if (result instanceof TestSubscriber) return result
  throw new Error(`refused: ${result.status} ${await result.text()}`)
}

async function refusal(target: Target, ip: string): Promise<{ status: number; body: unknown }> {
  const result = await open(target, ip)
  if (result instanceof TestSubscriber) {
    result.close()
    throw new Error('accepted a subscriber over the cap')
  }
  expect(result.headers.get('content-type')).toMatch(/^application\/json/)
  return { status: result.status, body: await result.json() }
}

function setLimits(stub: DurableObjectStub<SequencerDurableObject>, limits: SubscriberLimits) {
  return runInDurableObject(stub, (instance: SequencerDurableObject) => {
    Object.assign(instance.limits, limits)
  })
}

const openSockets = (stub: DurableObjectStub<SequencerDurableObject>) =>
  runInDurableObject(stub, (instance: SequencerDurableObject) => instance.sequencer.hub.size)

describe('firehose subscriber caps', () => {
  it('refuses a client over its cap with 429 JSON through the Worker route, IPv6 by /64', async () => {
    const stub = sequencerStub(env)
    await setLimits(stub, { total: 100, perAddress: 2 })
    const v4 = [await accepted(SELF, '203.0.113.5'), await accepted(SELF, '203.0.113.5')]
    const over = await refusal(SELF, '203.0.113.5')
    expect(over.status).toBe(429)
    expect(over.body).toEqual({
      error: 'RateLimitExceeded',
      message: 'At most 2 firehose subscriptions per client address: close one first',
    })
    // Two addresses of one /64 are one client; another /64 is not.
    const v6 = [
      await accepted(SELF, '2001:db8:0:1::1'),
      await accepted(SELF, '2001:db8:0:1:ffff::2'),
      await accepted(SELF, '2001:db8:0:2::1'),
    ]
    expect((await refusal(SELF, '2001:db8:0:1::3')).status).toBe(429)
    // Another IPv4 address is another client.
    const other = await accepted(SELF, '203.0.113.6')
    for (const sub of [...v4, ...v6, other]) sub.close()
  })

  it('refuses everyone once the total is reached', async () => {
    const stub = sequencerNamed('caps-total')
    await setLimits(stub, { total: 3, perAddress: 2 })
    const subs = [
      await accepted(stub, '198.51.100.1'),
      await accepted(stub, '198.51.100.1'),
      await accepted(stub, '198.51.100.2'),
    ]
    const full = await refusal(stub, '198.51.100.3')
    expect(full.status).toBe(429)
    expect(full.body).toMatchObject({ error: 'RateLimitExceeded' })
    expect((full.body as { message: string }).message).toMatch(/maximum of 3 firehose subscribers/)
    expect(await openSockets(stub)).toBe(3)
    for (const sub of subs) sub.close()
  })

  it('gives the slot back when a client closes, or when the server refuses a cursor', async () => {
    const stub = sequencerNamed('caps-close')
    await setLimits(stub, { total: 10, perAddress: 1 })
    const first = await accepted(stub, '192.0.2.1')
    expect((await refusal(stub, '192.0.2.1')).status).toBe(429)
    first.close()
    await first.closed
    const second = await accepted(stub, '192.0.2.1')
    second.close()
    await second.closed
    // FutureCursor: the server closes the socket, which must not keep the slot.
    const future = await accepted(stub, '192.0.2.1', 1_000)
    await future.closed
    const third = await accepted(stub, '192.0.2.1')
    third.close()
  })

  it('counts the sockets that outlived a hibernation', async () => {
    const stub = sequencerNamed('caps-hibernate')
    await setLimits(stub, { total: 3, perAddress: 2 })
    const a = [await accepted(stub, '192.0.2.7'), await accepted(stub, '192.0.2.7')]
    await evictDurableObject(stub)
    // A new instance starts with the configured limits; lower them again for the test.
    await setLimits(stub, { total: 3, perAddress: 2 })
    expect((await refusal(stub, '192.0.2.7')).status).toBe(429)
    const b = await accepted(stub, '192.0.2.8')
    expect((await refusal(stub, '192.0.2.9')).status).toBe(429)
    a[0]!.close()
    await a[0]!.closed
    const again = await accepted(stub, '192.0.2.7')
    for (const sub of [a[1]!, b, again]) sub.close()
  })
})
