/**
 * Questions for the interactive wizard, on the terminal. Without a terminal (CI, pipes) or with
 * `--yes`, nothing is asked: a missing answer is an error naming its flag and variable.
 */
import { createInterface } from 'node:readline/promises'

export class MissingAnswerError extends Error {
  override name = 'MissingAnswerError'
}

export interface Question {
  message: string
  /** The flag and environment variable that answer it, named when it cannot be asked. */
  flag: string
  env?: string
  default?: string
  validate?: (answer: string) => string | null
}

export interface Asker {
  readonly interactive: boolean
  ask(question: Question): Promise<string>
  confirm(message: string, fallback: boolean): Promise<boolean>
  close(): void
}

export function createAsker(interactive: boolean): Asker {
  const rl = interactive ? createInterface({ input: process.stdin, output: process.stdout }) : null
  return {
    interactive,
    async ask(question) {
      if (!rl) {
        if (question.default !== undefined) return question.default
        const env = question.env ? ` or ${question.env}` : ''
        throw new MissingAnswerError(`${question.message}: pass ${question.flag}${env}`)
      }
      for (;;) {
        const hint = question.default ? ` [${question.default}]` : ''
        const answer = (await rl.question(`? ${question.message}${hint} `)).trim()
        const value = answer || question.default || ''
        const problem = value ? (question.validate?.(value) ?? null) : 'an answer is required'
        if (!problem) return value
        console.log(`  ${problem}`)
      }
    },
    async confirm(message, fallback) {
      if (!rl) return fallback
      const answer = (await rl.question(`? ${message} ${fallback ? '[Y/n]' : '[y/N]'} `))
        .trim()
        .toLowerCase()
      if (!answer) return fallback
      return answer.startsWith('y')
    },
    close: () => rl?.close(),
  }
}
