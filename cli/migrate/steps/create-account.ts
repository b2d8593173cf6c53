/**
 * Step 1: the account on the new PDS, deactivated, with the same DID. The old PDS vouches for
 * it with a service-auth token (aud = the new PDS's DID, lxm = createAccount). If the DID is
 * already there (moving back to a PDS it once left), it is signed in to instead.
 */

import { type Session, XrpcError } from '../../client/xrpc.ts'
import type { Context } from '../context.ts'
import { MigrateError } from '../errors.ts'

const CREATE_ACCOUNT = 'com.atproto.server.createAccount'

export async function createAccount(ctx: Context): Promise<void> {
  const { state } = ctx
  const existing = await repoStatusAt(ctx)
  if (existing?.active) {
    throw new MigrateError(
      `${state.did} is already active on ${state.newPds}: there is nothing to move`,
    )
  }
  if (existing) {
    ctx.log(`The account already exists on ${state.newPds} (deactivated): signing in to it.`)
    await ctx.newSession()
    ctx.summary.push('account: signed in to the existing deactivated account on the new PDS')
    return
  }

  const oldSession = await ctx.oldSession()
  if (!oldSession.email) {
    throw new MigrateError(
      'the old PDS did not show the account email (an app password?): sign in with the account password',
    )
  }
  const { token } = await ctx.old.query<{ token: string }>('com.atproto.server.getServiceAuth', {
    params: {
      aud: state.newPdsDid,
      lxm: CREATE_ACCOUNT,
      exp: Math.floor(Date.now() / 1000) + 300,
    },
  })
  try {
    const session = await ctx.next.procedure<Session>(CREATE_ACCOUNT, {
      auth: { bearer: token },
      body: {
        did: state.did,
        handle: state.handle,
        email: oldSession.email,
        password: await ctx.newPassword(),
        ...(ctx.args.inviteCode ? { inviteCode: ctx.args.inviteCode } : {}),
      },
    })
    ctx.next.session = session
  } catch (err) {
    if (err instanceof XrpcError && err.status === 400) {
      throw new MigrateError(`the new PDS refused to create the account: ${err.message}`)
    }
    throw err
  }
  ctx.log(`Created ${state.handle} (${state.did}) on ${state.newPds}, deactivated until the end.`)
  ctx.summary.push(`account: created on the new PDS as ${state.handle}`)
}

async function repoStatusAt(ctx: Context): Promise<{ active: boolean } | null> {
  try {
    return await ctx.next.query<{ active: boolean }>('com.atproto.sync.getRepoStatus', {
      params: { did: ctx.state.did },
      auth: 'none',
    })
  } catch (err) {
    if (err instanceof XrpcError && err.status === 400 && err.error === 'RepoNotFound') return null
    throw err
  }
}
