/** The results table: plain text for the terminal, Markdown for bench/README.md. */
import { readFileSync, writeFileSync } from 'node:fs'
import { type Cell, formatCell, METRICS, type MetricDef, type Results, ratio } from './metrics.ts'
import type { ServerKind } from './servers.ts'

export interface Machine {
  cores: number
  cpu: string
  memoryGb: number
  node: string
  platform: string
  /** The Node version the reference PDS ran on. */
  referenceNode?: string
}

export interface BenchRun {
  date: string
  machine: Machine
  workload: string
  servers: Partial<Record<ServerKind, Results>>
  notes: string[]
}

const COLUMNS: { kind: ServerKind; title: string }[] = [
  { kind: 'reference', title: 'reference PDS' },
  { kind: 'direct', title: 'ours (workerd)' },
  { kind: 'dev', title: 'ours (wrangler dev)' },
]

function rows(run: BenchRun): string[][] {
  const present = COLUMNS.filter((c) => run.servers[c.kind])
  const header = ['figure', 'unit', ...present.map((c) => c.title), 'ours / ref']
  const body = METRICS.map((def) => {
    const cells = present.map((c) => formatCell(run.servers[c.kind]?.[def.id], def))
    return [
      def.label,
      def.unit,
      ...cells,
      ratioCell(def, run.servers.direct?.[def.id], run.servers.reference?.[def.id]),
    ]
  })
  return [header, ...body]
}

/** `0.52 better`: ours divided by the reference, and which way that goes for this figure. */
function ratioCell(def: MetricDef, ours: Cell | undefined, reference: Cell | undefined): string {
  const r = ratio(ours, reference)
  if (r === null || def.id === 'firehose.replay.events') return ''
  const verdict =
    Math.abs(r - 1) < 0.03 ? 'same' : r > 1 === (def.better === 'higher') ? 'better' : 'worse'
  return `${r.toFixed(2)} ${verdict}`
}

export function textTable(run: BenchRun): string {
  const table = rows(run)
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)))
  const line = (row: string[]): string =>
    row.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')
  const [header, ...body] = table
  return [line(header!), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n')
}

export function markdownTable(run: BenchRun): string {
  const [header, ...body] = rows(run)
  const align = header!.map((_, i) => (i < 2 ? '---' : '---:'))
  return [header!, align, ...body].map((row) => `| ${row.join(' | ')} |`).join('\n')
}

export function machineLine(run: BenchRun): string {
  const m = run.machine
  return `${run.date.slice(0, 10)}, ${m.cores} cores (${m.cpu}), ${m.memoryGb} GB, Node ${m.node}${m.referenceNode ? ` (reference PDS on Node ${m.referenceNode})` : ''}, ${m.platform}; workload: ${run.workload}`
}

const START = '<!-- bench:latest:start -->'
const END = '<!-- bench:latest:end -->'

/** Replaces the marked section of bench/README.md with this run's table. */
export function updateReadme(path: string, run: BenchRun): boolean {
  const text = readFileSync(path, 'utf8')
  const start = text.indexOf(START)
  const end = text.indexOf(END)
  if (start < 0 || end < start) return false
  const notes =
    run.notes.length > 0
      ? `\n\nNotes from the run:\n${run.notes.map((n) => `- ${n}`).join('\n')}`
      : ''
  const section = `${START}\nMeasured ${machineLine(run)}.\n\n${markdownTable(run)}${notes}\n${END}`
  writeFileSync(path, text.slice(0, start) + section + text.slice(end + END.length))
  return true
}
