/**
 * Rewrites every `ref` and union `refs` entry of a lexicon document to absolute form:
 * `nsid` for a main definition and `nsid#name` otherwise. Validation then needs no
 * "current document" context, and a union's refs compare directly with `$type` values
 * (which name a main definition by its bare NSID).
 */
import type { LexiconDoc } from './types.ts'

/** A deep copy of `doc` with absolute refs; the input is not modified. */
export function withAbsoluteRefs(doc: LexiconDoc): LexiconDoc {
  // A JSON round trip is the fastest deep copy of plain JSON; the walk then edits in place.
  const copy = JSON.parse(JSON.stringify(doc)) as LexiconDoc
  rewrite(copy, copy.id)
  return copy
}

/** Absolute form of `ref` as written inside the document `docId`. */
export function absoluteRef(ref: string, docId: string): string {
  const hash = ref.indexOf('#')
  if (hash === -1) return ref
  const nsid = hash === 0 ? docId : ref.slice(0, hash)
  const name = ref.slice(hash + 1)
  return name === 'main' ? nsid : `${nsid}#${name}`
}

function rewrite(value: unknown, docId: string): void {
  if (typeof value !== 'object' || value === null) return
  if (Array.isArray(value)) {
    for (const item of value) rewrite(item, docId)
    return
  }
  const obj = value as Record<string, unknown>
  if (obj.type === 'ref' && typeof obj.ref === 'string') {
    obj.ref = absoluteRef(obj.ref, docId)
  } else if (obj.type === 'union' && Array.isArray(obj.refs)) {
    obj.refs = obj.refs.map((ref) => (typeof ref === 'string' ? absoluteRef(ref, docId) : ref))
  }
  for (const key in obj) rewrite(obj[key], docId)
}
