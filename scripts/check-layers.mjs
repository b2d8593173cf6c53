/**
 * The layer order of ARCHITECTURE.md, checked: `npm run lint` (and so `npm test`) fails when a
 * module imports one above it. Order, lowest first:
 *
 *   syntax → data → crypto → repo → lexicon   the pure protocol core
 *   → xrpc (with config)                       HTTP method plumbing
 *   → the domain modules                       account, sequencer, db, identity, writes, ...
 *   → api                                      one handler per method
 *   → worker/                                  the entry point and Durable Object glue
 *
 * A module may import its own layer and those below it. `src/limits.ts`, `src/errors.ts` and
 * `src/html.ts` are below everything. Domain modules listed in NO_XRPC also keep off `src/xrpc/`: they
 * throw DomainErrors (src/errors.ts), which `src/xrpc/errors.ts` maps to HTTP. They may still
 * import `src/xrpc/permission.ts`, the vocabulary of what a call does (no HTTP in it), which
 * OAuth scopes (`src/auth/scopes/`) are matched against.
 *
 * The protocol core is ours: no file under `cli/`, `src/` or `worker/` may import an
 * `@atproto/*` package (type-only imports included). Those packages are devDependencies, kept
 * as independent verifiers for `test/` and `bench/`, which may import them.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, normalize, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const CORE = ['syntax', 'data', 'crypto', 'repo', 'lexicon']
const RANK = {
  limits: -1,
  errors: -1,
  html: -1,
  ...Object.fromEntries(CORE.map((name, i) => [name, i])),
}
RANK.xrpc = CORE.length
RANK.config = CORE.length
const DOMAIN_RANK = CORE.length + 1
const API_RANK = CORE.length + 2
const WORKER_RANK = CORE.length + 3
/** Domain folders that must not import `src/xrpc/`. */
const NO_XRPC = new Set([
  'account',
  'accounts',
  'auth',
  'blobs',
  'db',
  'identity',
  'mail',
  'sequencer',
  'sessions',
  'storage',
  'writes',
])
/** What NO_XRPC modules may import from `src/xrpc/` all the same. */
const XRPC_VOCABULARY = new Set([join('src', 'xrpc', 'permission.ts')])

/** `src/repo/mst/x.ts` → `repo`; `src/config.ts` → `config`; `worker/app.ts` → `worker/`. */
function area(path) {
  const parts = path.split(sep)
  if (parts[0] === 'worker') return 'worker/'
  if (parts[0] !== 'src') return null
  return parts.length === 2 ? parts[1].replace(/\.ts$/, '') : parts[1]
}

function rank(name) {
  if (name === 'worker/') return WORKER_RANK
  if (name === 'api') return API_RANK
  return RANK[name] ?? DOMAIN_RANK
}

function* sourceFiles(dir) {
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) yield* sourceFiles(path)
    else if (/\.[cm]?[jt]s$/.test(entry.name) && !entry.name.endsWith('.d.ts')) yield path
  }
}

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm
const ATPROTO_IMPORT =
  /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"](@atproto\/[^'"]*)['"]/gm
const SHIPPED = ['cli', 'src', 'worker']

/** Imports of `@atproto/*` from the code we ship (the CLI, the library, the Worker). */
export function findAtprotoImports(files = SHIPPED.flatMap((dir) => [...sourceFiles(dir)])) {
  const violations = []
  for (const file of files) {
    const text = readFileSync(join(root, file), 'utf8')
    for (const match of text.matchAll(ATPROTO_IMPORT)) {
      const line = text.slice(0, match.index).split('\n').length
      violations.push(
        `${file}:${line} imports ${match[1]}: @atproto/* is for tests only, use src/ instead`,
      )
    }
  }
  return violations
}

export function findViolations(files = [...sourceFiles('src'), ...sourceFiles('worker')]) {
  const violations = []
  for (const file of files) {
    const from = area(file)
    const text = readFileSync(join(root, file), 'utf8')
    for (const match of text.matchAll(IMPORT)) {
      const target = normalize(join(dirname(file), match[1]))
      const to = area(target)
      if (to === null || to === from) continue
      const line = text.slice(0, match.index).split('\n').length
      const where = `${file}:${line} imports ${relative('.', target)}`
      if (rank(to) > rank(from)) {
        violations.push(`${where}: ${from} must not import ${to}, which is above it`)
      } else if (to === 'xrpc' && NO_XRPC.has(from) && !XRPC_VOCABULARY.has(target)) {
        violations.push(`${where}: ${from} throws its own errors, not HTTP ones from src/xrpc/`)
      }
    }
  }
  return violations
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const violations = [...findViolations(), ...findAtprotoImports()]
  for (const v of violations) console.error(v)
  if (violations.length > 0) {
    console.error(
      `\n${violations.length} import(s) against the layer order or of @atproto/* (scripts/check-layers.mjs)`,
    )
    process.exit(1)
  }
  console.log('layers: ok')
}
