/**
 * Reads a request's trace from the bench build (bench/worker/instrument.ts): which round trips
 * it made, nested under the Durable Object call that caused them, which ran in parallel
 * (overlapping intervals), and how many lie on its critical path.
 */
import type { Hop, Trace } from './hop-trace.ts'

export interface HopNode {
  hop: Hop
  children: HopNode[]
}

export interface RequestHops {
  /** The hops made while the request was open, as a tree (a DO's hops under the call to it). */
  tree: HopNode[]
  /** Round trips on the longest chain of sequential ones (a DO call counts its own chain). */
  critical: number
  /** Every round trip made while the request was open. */
  total: number
  /** Hops after the response (waitUntil, the account object's alarm), not on the path. */
  after: Hop[]
}

/** The trace of one request (the first request mark in it). */
export function requestHops(trace: Trace): RequestHops {
  const request = trace.requests[0]
  if (!request) throw new Error('the trace holds no request')
  const hops = [...trace.hops].sort((a, b) => a.start - b.start)
  const during = hops.filter((h) => h.start > request.start && h.start < request.end)
  const after = hops.filter((h) => h.start > request.end)
  const tree: HopNode[] = []
  const open: HopNode[] = []
  for (const hop of during) {
    const node: HopNode = { hop, children: [] }
    const parent = findParent(open, hop)
    if (parent) parent.children.push(node)
    else if (hop.from === 'worker') tree.push(node)
    else {
      // A Durable Object's hop outside any call to it: its own background work.
      after.push(hop)
      continue
    }
    open.push(node)
  }
  return { tree, critical: criticalPath(tree), total: countNodes(tree), after }
}

/** The innermost call to `hop`'s object that was in flight when `hop` started. */
function findParent(open: HopNode[], hop: Hop): HopNode | null {
  for (let i = open.length - 1; i >= 0; i--) {
    const node = open[i]!
    if (node.hop.to === hop.from && node.hop.start < hop.start && hop.start < node.hop.end) {
      return node
    }
  }
  return null
}

function countNodes(nodes: HopNode[]): number {
  return nodes.reduce((sum, node) => sum + 1 + countNodes(node.children), 0)
}

/** The heaviest chain of hops each ending before the next starts; a hop weighs 1 + its own path. */
export function criticalPath(nodes: HopNode[]): number {
  const sorted = [...nodes].sort((a, b) => a.hop.start - b.hop.start)
  const best: number[] = []
  for (let i = 0; i < sorted.length; i++) {
    const node = sorted[i]!
    let before = 0
    for (let j = 0; j < i; j++) {
      if (sorted[j]!.hop.end < node.hop.start) before = Math.max(before, best[j]!)
    }
    best.push(before + 1 + criticalPath(node.children))
  }
  return Math.max(0, ...best)
}

/** Siblings in order, those in flight together grouped. */
export function parallelGroups(nodes: HopNode[]): HopNode[][] {
  const sorted = [...nodes].sort((a, b) => a.hop.start - b.hop.start)
  const groups: HopNode[][] = []
  let groupEnd = -1
  for (const node of sorted) {
    const current = groups.at(-1)
    if (current && node.hop.start < groupEnd) {
      current.push(node)
      groupEnd = Math.max(groupEnd, node.hop.end)
    } else {
      groups.push([node])
      groupEnd = node.hop.end
    }
  }
  return groups
}

/**
 * `D1 raw → account.applyWrites { D1 batch(2) ‖ sequencer.appendEvents }`: `→` one after
 * the other, `‖` in parallel, braces the hops the called object made.
 */
export function describeHops(nodes: HopNode[]): string {
  return parallelGroups(nodes)
    .map((group) => {
      const parts = group.map(describeNode)
      return group.length > 1 ? `[${parts.join(' ‖ ')}]` : parts[0]!
    })
    .join(' → ')
}

function describeNode(node: HopNode): string {
  const failed = node.hop.failed ? ' (failed)' : ''
  const inner = node.children.length > 0 ? ` { ${describeHops(node.children)} }` : ''
  return `${node.hop.op}${failed}${inner}`
}

/** Background hops, counted by operation: `R2 put ×1, D1 run ×1`. */
export function describeAfter(hops: Hop[]): string {
  const counts = new Map<string, number>()
  for (const hop of hops) {
    const key = `${hop.from === 'worker' ? '' : `${hop.from}: `}${hop.op}`
    counts.set(key, (counts.get(key) ?? 0) + 1)
  }
  return [...counts].map(([op, n]) => (n > 1 ? `${op} ×${n}` : op)).join(', ')
}
