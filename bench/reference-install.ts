/**
 * First-use install of the reference PDS into bench/node_modules (kept out of the main install:
 * about 500 MB), and of the Node it runs on.
 *
 * The reference runs on Node 22 LTS, not on the project's Node 24: its native SQLite module
 * (better-sqlite3 12, node::ObjectWrap) aborts the process on Node >= 24.19 when the garbage
 * collector finalizes a statement ("Assertion failed: (env) != nullptr" in
 * RemoveEnvironmentCleanupHook; nodejs/node#65446), which killed it in the middle of the
 * workload here. Node 22 comes from the `node-<platform>-<arch>` npm package (binary and
 * headers), and better-sqlite3 is built against it with the node-gyp that ships with npm
 * (npm here skips install scripts, and its prebuilt binaries are on GitHub, out of reach).
 */
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const benchDir = fileURLToPath(new URL('.', import.meta.url))
const modulesDir = join(benchDir, 'node_modules')
const runtimeDir = join(modulesDir, '.cache', 'reference-node')

/** The Node major version the reference PDS runs on. */
export const REFERENCE_NODE_RANGE = '22'

export class ReferenceInstallError extends Error {
  override name = 'ReferenceInstallError'
}

export interface ReferenceRuntime {
  /** The Node binary to run bench/reference-server.mjs with. */
  node: string
  version: string
}

export function ensureReferenceInstalled(log: (line: string) => void): ReferenceRuntime {
  if (!existsSync(join(modulesDir, '@atproto/pds/package.json'))) {
    const lockfile = existsSync(join(benchDir, 'package-lock.json'))
    log('Installing the reference PDS into bench/node_modules (first use; about 500 MB)...')
    npm([lockfile ? 'ci' : 'install', '--ignore-scripts', '--no-audit', '--no-fund'])
  }
  const runtime = ensureRuntime(log)
  if (sqliteLoads(runtime.node)) return runtime
  log(`Building better-sqlite3 for Node ${runtime.version} (about a minute)...`)
  run(runtime.node, [findNodeGyp(), 'rebuild', '--release', '-j', String(availableParallelism())], {
    cwd: join(modulesDir, 'better-sqlite3'),
    env: { ...process.env, npm_config_nodedir: dirname(dirname(runtime.node)) },
  })
  if (!sqliteLoads(runtime.node)) {
    throw new ReferenceInstallError('better-sqlite3 was rebuilt but still does not load')
  }
  return runtime
}

function ensureRuntime(log: (line: string) => void): ReferenceRuntime {
  const prefix = process.platform === 'darwin' && process.arch === 'arm64' ? 'node-bin' : 'node'
  const pkg = `${prefix}-${process.platform}-${process.arch}`
  const pkgDir = join(runtimeDir, 'node_modules', pkg)
  if (!existsSync(join(pkgDir, 'package.json'))) {
    log(`Fetching Node ${REFERENCE_NODE_RANGE} for the reference PDS (${pkg} from npm)...`)
    npm([
      'install',
      '--no-save',
      '--no-package-lock',
      '--ignore-scripts',
      '--no-audit',
      '--no-fund',
      '--prefix',
      runtimeDir,
      `${pkg}@${REFERENCE_NODE_RANGE}`,
    ])
  }
  const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as {
    version: string
    bin?: { node?: string }
  }
  const node = resolve(pkgDir, manifest.bin?.node ?? 'bin/node')
  if (!existsSync(node) || !existsSync(join(pkgDir, 'include/node/node.h'))) {
    throw new ReferenceInstallError(`${pkg}@${manifest.version} has no Node binary or headers`)
  }
  return { node, version: manifest.version }
}

function sqliteLoads(node: string): boolean {
  const probe = spawnSync(node, ['-e', "new (require('better-sqlite3'))(':memory:').close()"], {
    cwd: benchDir,
    stdio: 'ignore',
  })
  return probe.status === 0
}

/** The node-gyp that ships with npm (no extra download). */
function findNodeGyp(): string {
  const candidates: string[] = []
  const npmCli = process.env.npm_execpath
  if (npmCli) candidates.push(resolve(dirname(npmCli), '../node_modules/node-gyp/bin/node-gyp.js'))
  const globalRoot = spawnSync('npm', ['root', '-g'], { encoding: 'utf8' }).stdout?.trim()
  if (globalRoot) candidates.push(join(globalRoot, 'npm/node_modules/node-gyp/bin/node-gyp.js'))
  const found = candidates.find((path) => existsSync(path))
  if (!found) throw new ReferenceInstallError('node-gyp not found (it comes with npm)')
  return found
}

function npm(args: string[]): void {
  run('npm', args, { cwd: benchDir, env: process.env, inherit: true })
}

function run(
  command: string,
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; inherit?: boolean },
): void {
  const result = spawnSync(command, args, {
    cwd: opts.cwd,
    env: opts.env,
    stdio: opts.inherit ? 'inherit' : ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
  })
  if (result.status !== 0) {
    const output = opts.inherit ? '' : `\n${result.stdout ?? ''}${result.stderr ?? ''}`.slice(-4000)
    throw new ReferenceInstallError(
      `${command} ${args.join(' ')} failed (${result.status ?? result.signal})${output}`,
    )
  }
}
