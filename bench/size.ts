/**
 * `npm run bench:size`: the Worker bundle as `wrangler deploy --minify` builds it, minified and
 * gzipped, with the biggest contributors. Workers have a startup budget, and the bundle's size
 * is most of it: the budget here is 400 KiB gzipped (exit code 1 above it).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { buildWorker } from './build.ts'

const BUDGET_KIB = 400

interface Metafile {
  outputs: Record<string, { inputs: Record<string, { bytesInOutput: number }> }>
}

const dir = mkdtempSync(join(tmpdir(), 'edge-pds-size-'))
try {
  const metafile = join(dir, 'meta.json')
  const bundle = buildWorker(dir, { minify: true, metafile })
  const code = readFileSync(bundle)
  const gzipped = gzipSync(code, { level: 9 }).length
  const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`

  const meta = JSON.parse(readFileSync(metafile, 'utf8')) as Metafile
  const output = Object.entries(meta.outputs).find(([path]) => path.endsWith('index.js'))?.[1]
  const byOwner = new Map<string, number>()
  for (const [path, input] of Object.entries(output?.inputs ?? {})) {
    const owner = ownerOf(path)
    byOwner.set(owner, (byOwner.get(owner) ?? 0) + input.bytesInOutput)
  }
  const top = [...byOwner].sort((a, b) => b[1] - a[1]).slice(0, 12)

  console.log(`Worker bundle (wrangler deploy --dry-run --minify)`)
  console.log(`  minified: ${kib(code.length)}`)
  console.log(`  gzipped:  ${kib(gzipped)}  (budget ${BUDGET_KIB} KiB)`)
  console.log(`\nLargest parts (minified bytes in the bundle):`)
  const width = Math.max(...top.map(([owner]) => owner.length))
  for (const [owner, bytes] of top)
    console.log(`  ${owner.padEnd(width)}  ${kib(bytes).padStart(10)}`)
  if (gzipped > BUDGET_KIB * 1024) {
    console.error(`\nOver budget: ${kib(gzipped)} gzipped > ${BUDGET_KIB} KiB`)
    process.exitCode = 1
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}

/** `node_modules/@scope/pkg/...` → `@scope/pkg`; our own code by top folder (`src/repo`). */
function ownerOf(path: string): string {
  const parts = path.split('/')
  const nm = parts.lastIndexOf('node_modules')
  if (nm >= 0) {
    const name = parts[nm + 1] ?? '?'
    return name.startsWith('@') ? `${name}/${parts[nm + 2]}` : name
  }
  const start = parts.findIndex((p) => p === 'src' || p === 'worker')
  if (start < 0) return parts.slice(-1)[0] ?? path
  return parts[start] === 'src' && parts.length > start + 2
    ? `${parts[start]}/${parts[start + 1]}`
    : parts[start]!
}
