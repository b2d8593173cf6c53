/** Steps 9 and 10: the account goes live on the new PDS, then is deactivated on the old one. */

import { XrpcError } from '../../client/xrpc.ts'
import type { Context } from '../context.ts'

export async function activateNew(ctx: Context): Promise<void> {
  await ctx.newSession()
  await ctx.next.procedure('com.atproto.server.activateAccount')
  ctx.log(`Activated the account on ${ctx.state.newPds}.`)
}

export async function deactivateOld(ctx: Context): Promise<void> {
  await ctx.oldSession()
  try {
    await ctx.old.procedure('com.atproto.server.deactivateAccount', { body: {} })
    ctx.log(`Deactivated the account on ${ctx.state.oldPds} (its data stays there until deleted).`)
  } catch (err) {
    // The move is complete without it; say so rather than fail the whole command.
    const why = err instanceof XrpcError ? `${err.error}: ${err.message}` : (err as Error).message
    ctx.log(`Could not deactivate the account on the old PDS (${why}); do it by hand.`)
    ctx.summary.push('old account: NOT deactivated (see above)')
  }
}
