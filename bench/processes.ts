/** Ports, health checks and process memory (Linux /proc) for the servers under test. */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'

export { freePort } from '../test/e2e/dev-server.ts'

export async function waitForHealth(
  url: string,
  timeoutMs: number,
  child?: ChildProcess,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`exited with ${child.exitCode}`)
    try {
      const res = await fetch(url)
      await res.arrayBuffer()
      if (res.ok) return
    } catch {
      // not listening yet
    }
    await sleep(200)
  }
  throw new Error(`no answer from ${url} within ${timeoutMs} ms`)
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** A child process in its own process group (so that stopping it stops its children too). */
export function spawnGroup(
  command: string,
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv },
): { child: ChildProcess; output: string[] } {
  const output: string[] = []
  const child = spawn(command, args, {
    cwd: opts.cwd,
    env: opts.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const keep = (chunk: unknown): void => {
    output.push(String(chunk))
    if (output.length > 200) output.splice(0, output.length - 200)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  return { child, output }
}

export async function stopGroup(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  signalGroup(child.pid, 'SIGTERM')
  const timer = setTimeout(() => signalGroup(child.pid!, 'SIGKILL'), graceMs)
  await exited
  clearTimeout(timer)
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch {
    try {
      process.kill(pid, signal)
    } catch {
      // already gone
    }
  }
}

export interface ProcessMemory {
  /** Resident set size now, MB. */
  rssMb: number
  /** Peak resident set size (VmHWM), MB. */
  peakMb: number
}

/** Memory of these processes, summed; null when /proc cannot tell (not Linux, or gone). */
export function readMemory(pids: readonly number[]): ProcessMemory | null {
  let rss = 0
  let peak = 0
  let found = 0
  for (const pid of pids) {
    const status = readProc(`/proc/${pid}/status`)
    if (!status) continue
    const field = (name: string): number =>
      Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0)
    rss += field('VmRSS')
    peak += field('VmHWM')
    found++
  }
  return found === 0 ? null : { rssMb: rss / 1024, peakMb: peak / 1024 }
}

/** CPU time used so far by these processes (user + system), in ms; null without /proc. */
export function readCpuMs(pids: readonly number[]): number | null {
  if (pids.length === 0 || !readProc(`/proc/${pids[0]}/stat`)) return null
  // Linux clock ticks are 100 per second (USER_HZ) on every common platform.
  return cpuTicks(pids) * 10
}

/** CPU time used so far by these processes (user + system), in clock ticks. */
function cpuTicks(pids: readonly number[]): number {
  let ticks = 0
  for (const pid of pids) {
    const stat = readProc(`/proc/${pid}/stat`)
    if (!stat) continue
    // After `(comm)` come the fields from the 3rd (state) on; utime and stime are the 14th, 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    ticks += Number(fields[11] ?? 0) + Number(fields[12] ?? 0)
  }
  return ticks
}

/**
 * Waits until these processes have been idle (under 5% of a core) for half a second, or
 * `maxMs` passed: background work a phase leaves behind (an archive alarm, a checkpoint) must
 * not fall on the next measurement. Returns how long it waited.
 */
export async function waitForIdle(pids: () => readonly number[], maxMs = 20_000): Promise<number> {
  const started = performance.now()
  const stepMs = 250
  // Linux clock ticks are 100 per second (USER_HZ) on every common platform.
  const busyTicks = (0.05 * stepMs) / 10
  let quiet = 0
  let last = cpuTicks(pids())
  while (performance.now() - started < maxMs) {
    await sleep(stepMs)
    const now = cpuTicks(pids())
    quiet = now - last <= busyTicks ? quiet + 1 : 0
    last = now
    if (quiet >= 2) break
  }
  return performance.now() - started
}

/** The children of `parent` whose command name is `name`. */
export function findChildren(parent: number, name: string): number[] {
  return processTree()
    .filter((p) => p.ppid === parent && p.comm === name)
    .map((p) => p.pid)
}

/** All descendants of `root` whose command name is `name`. */
export function findDescendants(root: number, name: string): number[] {
  const children = new Map<number, ProcessInfo[]>()
  for (const p of processTree()) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p])
  const found: number[] = []
  const queue = [...(children.get(root) ?? [])]
  while (queue.length > 0) {
    const p = queue.shift()!
    if (p.comm === name) found.push(p.pid)
    queue.push(...(children.get(p.pid) ?? []))
  }
  return found
}

interface ProcessInfo {
  pid: number
  ppid: number
  comm: string
}

function processTree(): ProcessInfo[] {
  if (!existsSync('/proc')) return []
  const out: ProcessInfo[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const stat = readProc(`/proc/${entry}/stat`)
    if (!stat) continue
    // pid (comm) state ppid ...: comm may contain spaces, so split after the last ')'.
    const close = stat.lastIndexOf(')')
    const comm = stat.slice(stat.indexOf('(') + 1, close)
    const ppid = Number(stat.slice(close + 2).split(' ')[1])
    out.push({ pid: Number(entry), ppid, comm })
  }
  return out
}

function readProc(path: string): string | null {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return null
  }
}
