/** The Worker bundle, built by wrangler exactly as `wrangler deploy` would upload it. */
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const rootDir = fileURLToPath(new URL('..', import.meta.url))
const wranglerBin = join(rootDir, 'node_modules/wrangler/bin/wrangler.js')

/**
 * Builds into `outDir` and returns the entry module (not minified unless asked, like `wrangler dev`).
 * `root` builds another checkout of the project (an older commit, for before/after runs).
 */
export function buildWorker(
  outDir: string,
  opts: { minify?: boolean; metafile?: string; root?: string } = {},
): string {
  const args = [wranglerBin, 'deploy', '--dry-run', '--outdir', outDir]
  if (opts.minify) args.push('--minify')
  if (opts.metafile) args.push('--metafile', opts.metafile)
  const result = spawnSync(process.execPath, args, {
    cwd: opts.root ?? rootDir,
    env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: 'false' },
    encoding: 'utf8',
  })
  if (result.status !== 0) {
    throw new Error(`wrangler deploy --dry-run failed:\n${result.stdout}${result.stderr}`)
  }
  return join(outDir, 'index.js')
}
