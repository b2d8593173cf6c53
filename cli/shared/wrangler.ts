/**
 * Runs the wrangler that `npm install` put in node_modules, on this Node, with the caller's
 * Cloudflare credentials (CLOUDFLARE_API_TOKEN or `wrangler login`) passed through.
 */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const wranglerBin = fileURLToPath(
  new URL('../../node_modules/wrangler/bin/wrangler.js', import.meta.url),
)

/**
 * What keeps a wrangler run from contacting anyone on its own: no `request.cf` download, no
 * telemetry (wrangler.toml's send_metrics = false does not stop the "command started" event),
 * no banner (its npm update check). scripts/dev.mjs, plain JavaScript, sets the same.
 */
export const OFFLINE_WRANGLER_ENV = {
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  WRANGLER_SEND_METRICS: 'false',
  WRANGLER_HIDE_BANNER: 'true',
} as const

export function wranglerVersion(): string {
  const pkg = fileURLToPath(new URL('../../node_modules/wrangler/package.json', import.meta.url))
  return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version
}

export class WranglerError extends Error {
  override name = 'WranglerError'
}

export interface WranglerRun {
  stdout: string
  stderr: string
}

export interface WranglerOptions {
  /** Written to wrangler's stdin (secrets travel this way, never on disk or argv). */
  input?: string
  /** Show wrangler's output to the user as it runs (otherwise it is captured). */
  echo?: boolean
  cwd?: string
}

export function runWrangler(args: string[], opts: WranglerOptions = {}): Promise<WranglerRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [wranglerBin, ...args], {
      cwd: opts.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
      // Non-interactive: wrangler takes defaults instead of prompting (it would hang on a pipe).
      // No banner: it also checks npm for a newer wrangler (we print the version in preflight).
      env: { ...process.env, ...OFFLINE_WRANGLER_ENV, CI: 'true', FORCE_COLOR: '0' },
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => {
      stdout += chunk
      if (opts.echo) process.stdout.write(chunk)
    })
    child.stderr.on('data', (chunk) => {
      stderr += chunk
      if (opts.echo) process.stderr.write(chunk)
    })
    child.on('error', reject)
    child.on('close', (code) => {
      if (code === 0) resolve({ stdout, stderr })
      else {
        const detail = opts.echo ? '' : `\n${stdout}${stderr}`.trimEnd()
        reject(
          new WranglerError(
            `wrangler ${args
              .filter((a) => !a.startsWith('-'))
              .slice(0, 3)
              .join(' ')} failed (exit ${code})${detail}`,
          ),
        )
      }
    })
    child.stdin.end(opts.input ?? '')
  })
}
