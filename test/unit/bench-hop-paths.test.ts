import { describe, expect, it } from 'vitest'
import { describeAfter, describeHops, requestHops } from '../../bench/hop-paths.ts'
import type { Hop, Trace } from '../../bench/hop-trace.ts'

const hop = (
  from: Hop['from'],
  op: string,
  start: number,
  end: number,
  to: Hop['to'] = null,
): Hop => ({
  from,
  kind: to ? 'do' : 'd1',
  op,
  to,
  start,
  end,
  startMs: 0,
  endMs: 0,
  failed: false,
})

describe('bench hop paths', () => {
  it('nests an object call’s hops under it, groups parallel ones and counts the critical path', () => {
    const trace: Trace = {
      requests: [{ path: '/xrpc/com.atproto.repo.createRecord', start: 1, end: 20 }],
      hops: [
        hop('worker', 'D1 all', 2, 3),
        hop('worker', 'account.applyWrites', 4, 12, 'account'),
        hop('account', 'D1 batch(2)', 5, 8),
        hop('account', 'sequencer.appendEvents', 6, 9, 'sequencer'),
        hop('account', 'R2 put', 30, 31),
      ],
    }
    const hops = requestHops(trace)
    expect(describeHops(hops.tree)).toBe(
      'D1 all → account.applyWrites { [D1 batch(2) ‖ sequencer.appendEvents] }',
    )
    expect(hops.critical).toBe(3)
    expect(hops.total).toBe(4)
    expect(describeAfter(hops.after)).toBe('account: R2 put')
  })

  it('counts sequential hops inside an object call one by one', () => {
    const trace: Trace = {
      requests: [{ path: '/x', start: 1, end: 20 }],
      hops: [
        hop('worker', 'account.applyWrites', 2, 12, 'account'),
        hop('account', 'D1 batch(2)', 3, 4),
        hop('account', 'sequencer.appendEvents', 5, 6, 'sequencer'),
      ],
    }
    const hops = requestHops(trace)
    expect(describeHops(hops.tree)).toBe(
      'account.applyWrites { D1 batch(2) → sequencer.appendEvents }',
    )
    expect(hops.critical).toBe(3)
  })
})
