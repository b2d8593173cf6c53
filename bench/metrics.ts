/** Every figure the bench reports, in table order. */

export interface MetricDef {
  id: string
  /** Table row label. */
  label: string
  unit: string
  /** Which way is better, for reading the ratio column. */
  better: 'higher' | 'lower'
  digits: number
}

/** A measured number, or why there is none (a table cell such as `not implemented: 501`). */
export type Cell = number | { na: string }
export type Results = Record<string, Cell>

const m = (
  id: string,
  label: string,
  unit: string,
  better: MetricDef['better'],
  digits = 1,
): MetricDef => ({ id, label, unit, better, digits })

/** The methods whose round trips on the critical path the table shows (bench/hop-count.ts). */
export const HOP_FIGURES = ['createRecord', 'applyWrites', 'getRecord', 'listRecords', 'getRepo']

export const METRICS: readonly MetricDef[] = [
  m('createAccount.p50', 'createAccount p50', 'ms', 'lower'),
  m('createSession.p50', 'createSession p50', 'ms', 'lower'),
  m('createRecord.seq.p50', 'createRecord sequential p50', 'ms', 'lower', 2),
  m('createRecord.seq.p99', 'createRecord sequential p99', 'ms', 'lower', 2),
  m('createRecord.seq.rate', 'createRecord sequential', 'rec/s', 'higher', 0),
  m('createRecord.seq.cpu', 'createRecord sequential, server CPU per write', 'ms', 'lower', 2),
  m('archive.puts.per1k', 'R2 writes per 1,000 sequential commits', 'puts', 'lower', 0),
  m('createRecord.oneAccount8.rate', '8 writers, one account', 'rec/s', 'higher', 0),
  m('createRecord.eightAccounts.rate', '8 writers, 8 accounts', 'rec/s', 'higher', 0),
  m('applyWrites.bulk.rate', 'applyWrites, 200 creates per call', 'rec/s', 'higher', 0),
  m('getRecord.p50', 'getRecord p50', 'ms', 'lower', 2),
  m('getRecord.p99', 'getRecord p99', 'ms', 'lower', 2),
  m('getRecord.rate', 'getRecord sequential', 'req/s', 'higher', 0),
  m('getRecord.cpu', 'getRecord, server CPU per request', 'ms', 'lower', 2),
  m('listRecords.p50', 'listRecords page of 100, p50', 'ms', 'lower', 2),
  m('listRecords.rate', 'listRecords sequential pages', 'rec/s', 'higher', 0),
  m('getRepo.1k.p50', 'getRepo 1,000 records, p50', 'ms', 'lower', 1),
  m('getRepo.1k.throughput', 'getRepo 1,000 records', 'MB/s', 'higher', 1),
  m('getRepo.1k.size', 'getRepo 1,000 records, CAR size', 'MB', 'lower', 2),
  m('getRepo.10k.p50', 'getRepo 10,000 records, p50', 'ms', 'lower', 0),
  m('getRepo.10k.throughput', 'getRepo 10,000 records', 'MB/s', 'higher', 1),
  m('getRepo.10k.size', 'getRepo 10,000 records, CAR size', 'MB', 'lower', 2),
  m('firehose.p50', 'firehose, write response to frame, p50', 'ms', 'lower', 2),
  m('firehose.p99', 'firehose, write response to frame, p99', 'ms', 'lower', 2),
  m('firehose.write.p50', 'firehose, write request to frame, p50', 'ms', 'lower', 2),
  m('firehose.write.p99', 'firehose, write request to frame, p99', 'ms', 'lower', 2),
  m('firehose.idle', 'firehose, response to frame after 5 s idle (worst)', 'ms', 'lower', 2),
  m('firehose.replay.rate', 'firehose replay from cursor 0', 'events/s', 'higher', 0),
  m('firehose.replay.events', 'firehose replay, events received', 'events', 'higher', 0),
  m('scale.empty.p50', 'createRecord p50, first 200 records', 'ms', 'lower', 2),
  m('scale.10k.p50', 'createRecord p50, repo of 10,000', 'ms', 'lower', 2),
  m('scale.ratio', 'write cost at 10,000 / empty', 'x', 'lower', 2),
  m('memory.idle', 'server RSS after start', 'MB', 'lower', 0),
  m('memory.end', 'server RSS after the workload', 'MB', 'lower', 0),
  m('memory.peak', 'server peak RSS', 'MB', 'lower', 0),
  // Ours only, from the bench build (`npm run bench:hops`): round trips one after the other.
  ...HOP_FIGURES.map((method) =>
    m(`hops.${method}`, `${method}, round trips on the critical path`, 'hops', 'lower', 0),
  ),
]

export function formatCell(cell: Cell | undefined, def: MetricDef): string {
  if (cell === undefined) return '-'
  if (typeof cell !== 'number') return `n/a (${cell.na})`
  if (!Number.isFinite(cell)) return '-'
  return cell.toLocaleString('en-US', {
    minimumFractionDigits: def.digits,
    maximumFractionDigits: def.digits,
  })
}

/** ours / reference, when both are numbers. */
export function ratio(ours: Cell | undefined, reference: Cell | undefined): number | null {
  if (typeof ours !== 'number' || typeof reference !== 'number') return null
  if (!Number.isFinite(ours) || !Number.isFinite(reference) || reference === 0) return null
  return ours / reference
}
