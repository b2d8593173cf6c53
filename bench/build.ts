/** The Worker bundle, built by wrangler exactly as `wrangler deploy` would upload it. */
import { spawnSync } from 'node:child_process'
import { basename, extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { OFFLINE_WRANGLER_ENV, wranglerBin } from '../cli/shared/wrangler.ts'

const rootDir = fileURLToPath(new URL('..', import.meta.url))

/**
 * Builds into `outDir` and returns the entry module (not minified unless asked, like `wrangler dev`).
 * `root` builds another checkout of the project (an older commit, for before/after runs);
 * `entry` another entry module than wrangler.toml's `main` (the bench build, bench/worker/).
 */
export function buildWorker(
  outDir: string,
  opts: { minify?: boolean; metafile?: string; root?: string; entry?: string } = {},
): string {
  const args = [wranglerBin, 'deploy', '--dry-run', '--outdir', outDir]
  if (opts.entry) args.push(opts.entry)
  if (opts.minify) args.push('--minify')
  if (opts.metafile) args.push('--metafile', opts.metafile)
  const result = spawnSync(process.execPath, args, {
    cwd: opts.root ?? rootDir,
    env: { ...process.env, ...OFFLINE_WRANGLER_ENV },
    encoding: 'utf8',
  })
  if (result.status !== 0) {
    throw new Error(`wrangler deploy --dry-run failed:\n${result.stdout}${result.stderr}`)
  }
  // wrangler names the bundle after the entry module.
  return join(outDir, opts.entry ? `${basename(opts.entry, extname(opts.entry))}.js` : 'index.js')
}

/** The bench build: the Worker with its bindings instrumented (bench/worker/entry.ts). */
export function buildBenchWorker(outDir: string): string {
  return buildWorker(outDir, { entry: 'bench/worker/entry.ts' })
}
