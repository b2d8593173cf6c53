/**
 * Every action that changes something goes through `act`: it is announced, and under
 * `--dry-run` only announced (the caller supplies what the action would have returned).
 */
export interface Runner {
  readonly dryRun: boolean
  act<T>(what: string, action: () => Promise<T>, dryRunResult: T): Promise<T>
  info(message: string): void
}

export function createRunner(dryRun: boolean): Runner {
  return {
    dryRun,
    async act(what, action, dryRunResult) {
      if (dryRun) {
        console.log(`[dry-run] would ${what}`)
        return dryRunResult
      }
      console.log(`→ ${what}`)
      return action()
    },
    info: (message) => console.log(message),
  }
}
