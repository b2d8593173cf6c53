/**
 * Questions to the user on the terminal. Answers are never echoed (passwords, the PLC token);
 * without a terminal (a script, a test) each answer is one line of standard input.
 */
import { createInterface } from 'node:readline'

let lines: AsyncIterator<string> | null = null

export class PromptClosedError extends Error {
  override name = 'PromptClosedError'
}

/** Asks on stderr (stdout may be piped) and reads one answer without echoing it. */
export async function askSecret(question: string): Promise<string> {
  process.stderr.write(question)
  const answer = process.stdin.isTTY ? await readHidden() : await readLine()
  process.stderr.write('\n')
  return answer.trim()
}

async function readLine(): Promise<string> {
  lines ??= createInterface({ input: process.stdin, terminal: false })[Symbol.asyncIterator]()
  const next = await lines.next()
  if (next.done) throw new PromptClosedError('standard input closed before an answer was given')
  return next.value
}

function readHidden(): Promise<string> {
  const stdin = process.stdin
  return new Promise((resolve, reject) => {
    let answer = ''
    const done = (finish: () => void): void => {
      stdin.setRawMode(false)
      stdin.pause()
      stdin.off('data', onData)
      finish()
    }
    const onData = (chunk: Buffer): void => {
      for (const char of chunk.toString('utf8')) {
        if (char === '\r' || char === '\n') {
          done(() => resolve(answer))
          return
        }
        // Ctrl-C and Ctrl-D: raw mode swallows the signal, so raise it ourselves.
        if (char === '\u0003') {
          done(() => process.kill(process.pid, 'SIGINT'))
          return
        }
        if (char === '\u0004') {
          done(() => reject(new PromptClosedError('no answer given')))
          return
        }
        if (char === '\u007f' || char === '\b') answer = answer.slice(0, -1)
        else answer += char
      }
    }
    stdin.setRawMode(true)
    stdin.resume()
    stdin.on('data', onData)
  })
}
