/**
 * Step 8: the new PDS checks the signed operation (its endpoint, its key) and submits it to
 * the PLC directory. From here on the DID points at the new PDS.
 */

import { XrpcError } from '../../client/xrpc.ts'
import type { Context } from '../context.ts'
import { MigrateError } from '../errors.ts'

export async function submitPlcOperation(ctx: Context): Promise<void> {
  const operation = ctx.state.signedPlcOperation
  if (!operation) throw new MigrateError('no signed PLC operation in the state: sign it again')
  await ctx.newSession()
  try {
    await ctx.next.procedure('com.atproto.identity.submitPlcOperation', { body: { operation } })
  } catch (err) {
    if (err instanceof XrpcError && err.status === 400) {
      // Signed for another state of the DID (e.g. it changed meanwhile): sign again next run.
      delete ctx.state.signedPlcOperation
      delete ctx.state.finished['plc-sign']
      ctx.store.save(ctx.state)
      throw new MigrateError(
        `the new PDS refused the PLC operation (${err.error}: ${err.message}); run the command again`,
      )
    }
    throw err
  }
  delete ctx.state.signedPlcOperation
  ctx.log(`The DID now points at ${ctx.state.newPds}.`)
}
