/**
 * Bodies of the `subscribeRepos` messages an account emits [lex:com.atproto.sync.subscribeRepos].
 * They are built without `seq` (the sequencer assigns it) and without `blocks`, which the
 * outbox fills in from the account's block store when the event is delivered.
 */
import type { CID } from '../data/cid.ts'
import type { InactiveStatus } from './types.ts'

export type CommitOp = {
  action: 'create' | 'update' | 'delete'
  path: string
  /** null for a delete. */
  cid: CID | null
  /** The previous record CID: present for update and delete, absent for create. */
  prev?: CID
}

export type EventBody = Record<string, unknown>

export function commitEventBody(args: {
  repo: string
  commit: CID
  rev: string
  since: string | null
  ops: CommitOp[]
  /** The previous commit's data root; null for the first commit, where it is left out. */
  prevData: CID | null
  time: string
}): EventBody {
  const body: EventBody = {
    repo: args.repo,
    commit: args.commit,
    rev: args.rev,
    since: args.since,
    ops: args.ops,
    rebase: false,
    tooBig: false,
    blobs: [],
    time: args.time,
  }
  if (args.prevData) body.prevData = args.prevData
  return body
}

/** `#sync`: "this is the current state"; its `blocks` hold only the commit block. */
export function syncEventBody(args: { did: string; rev: string; time: string }): EventBody {
  return { did: args.did, rev: args.rev, time: args.time }
}

export function identityEventBody(args: {
  did: string
  handle: string | null
  time: string
}): EventBody {
  const body: EventBody = { did: args.did, time: args.time }
  if (args.handle) body.handle = args.handle
  return body
}

export function accountEventBody(args: {
  did: string
  active: boolean
  status: InactiveStatus | null
  time: string
}): EventBody {
  const body: EventBody = { did: args.did, active: args.active, time: args.time }
  if (args.status) body.status = args.status
  return body
}
