/** A migration's expected failures: printed as their message (cli/client/errors.ts). */
import { ExpectedError } from '../client/errors.ts'

export class MigrateError extends ExpectedError {
  override name = 'MigrateError'
}
