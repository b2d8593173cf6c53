/**
 * The account commands (`npm run recovery-key | backup | restore`) run as a user runs them:
 * their questions answered on standard input by a function of what they printed so far.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../..', import.meta.url))

export interface CommandRun {
  code: number | null
  output: string
}

export interface CommandOptions {
  env?: Record<string, string>
  /** Called on every new question (a line ending in ": "); returns the answer. */
  answer?: (question: string, output: string) => Promise<string> | string
  timeoutMs?: number
}

export function runAccountCommand(
  script: 'recovery-key' | 'backup' | 'restore',
  args: string[],
  opts: CommandOptions = {},
): Promise<CommandRun> {
  return startAccountCommand(script, args, opts).exited
}

export interface RunningCommand {
  child: ChildProcess
  /** What it printed so far. */
  output(): string
  exited: Promise<CommandRun>
}

/** The command started, for one that keeps running (`backup --follow`) until it is stopped. */
export function startAccountCommand(
  script: 'recovery-key' | 'backup' | 'restore',
  args: string[],
  opts: CommandOptions = {},
): RunningCommand {
  const child = spawn(
    process.execPath,
    ['--experimental-strip-types', '--no-warnings', `cli/${script}/main.ts`, ...args],
    { cwd: root, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } },
  )
  let output = ''
  let answered = 0
  const onOutput = (chunk: Buffer): void => {
    output += String(chunk)
    const questions = output.split('\n').filter((line) => /: $/.test(line))
    if (questions.length > answered && opts.answer) {
      const question = questions[answered]!
      answered++
      Promise.resolve(opts.answer(question, output)).then(
        (reply) => child.stdin.write(`${reply}\n`),
        (err: Error) => {
          output += `\n[test] no answer: ${err.message}\n`
          child.kill('SIGKILL')
        },
      )
    }
  }
  child.stdout.on('data', onOutput)
  child.stderr.on('data', onOutput)
  const exited = new Promise<CommandRun>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000)
    child.on('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, output })
    })
  })
  return { child, output: () => output, exited }
}

/** The paper key `recovery-key add` printed, as its 14 groups. */
export function paperKeyIn(output: string): string[] {
  const first = /^ {3}1-7: {2}(.+)$/m.exec(output)?.[1]
  const second = /^ {2}8-14: {2}(.+)$/m.exec(output)?.[1]
  if (!first || !second) throw new Error(`no paper key in:\n${output}`)
  return [...first.split(' '), ...second.split(' ')]
}

/** The answer to "type group X then group Y". */
export function typeBack(question: string, groups: string[]): string | null {
  const asked = /type group (\d+) then group (\d+)/.exec(question)
  if (!asked) return null
  return `${groups[Number(asked[1]) - 1]} ${groups[Number(asked[2]) - 1]}`
}
