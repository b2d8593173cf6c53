/**
 * Step 7: the PLC operation that moves the DID. The old PDS holds the rotation key, so it
 * signs, but only with a token it sends to the account's owner (`requestPlcOperationSignature`;
 * by email, or as the operator's tooling says). The operation's content is what the new PDS
 * recommends (`getRecommendedDidCredentials`): its endpoint, its signing key, its rotation key.
 *
 * @NOTE The signed operation is kept in the state until it has been submitted: a crash in
 * between must not need a second token. It is not a secret in the sense a password is: it can
 * only move the DID to the new PDS, which is what the user asked for.
 */

import { askSecret } from '../../client/secret-prompt.ts'
import { XrpcError } from '../../client/xrpc.ts'
import type { Context } from '../context.ts'
import { MigrateError } from '../errors.ts'

export async function signPlcOperation(ctx: Context): Promise<void> {
  const session = await ctx.oldSession()
  await ctx.newSession()
  // Asked first: a new PDS that cannot answer should fail before the user is sent a token.
  const credentials = await ctx.next.query<Record<string, unknown>>(
    'com.atproto.identity.getRecommendedDidCredentials',
  )
  let token = ctx.args.plcToken
  if (!token) {
    await ctx.old.procedure('com.atproto.identity.requestPlcOperationSignature')
    ctx.log(
      `The old PDS has sent a confirmation token${session.email ? ` to ${session.email}` : ''}.`,
    )
    token = await askSecret('PLC token from the old PDS: ')
    if (!token) throw new MigrateError('no PLC token given')
  }
  try {
    const { operation } = await ctx.old.procedure<{ operation: Record<string, unknown> }>(
      'com.atproto.identity.signPlcOperation',
      { body: { token, ...credentials } },
    )
    ctx.state.signedPlcOperation = operation
  } catch (err) {
    if (err instanceof XrpcError && err.status === 400 && /Token/.test(err.error)) {
      throw new MigrateError(
        `the old PDS refused the PLC token (${err.error}: ${err.message}); run the command ` +
          'again without --plc-token to be sent a new one',
      )
    }
    throw err
  }
  ctx.log('The old PDS signed the PLC operation.')
}
