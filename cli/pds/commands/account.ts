/**
 * `account list|create|info|delete|takedown|untakedown|reset-password|update-handle|update-email`:
 * the standard `com.atproto.admin.*` methods (HTTP Basic admin auth), and the public
 * `com.atproto.sync.listRepos` for the list.
 */
import { CliError, MethodMissingError } from '../client.ts'
import {
  type Command,
  type CommandContext,
  generatePassword,
  requireArg,
  requireConfirmation,
  resolveAccount,
  stringFlag,
} from './context.ts'

interface RepoEntry {
  did: string
  active: boolean
  status?: string
}

interface AccountView {
  did: string
  handle: string
  email?: string
  indexedAt: string
  emailConfirmedAt?: string
  deactivatedAt?: string
  invitesDisabled?: boolean
}

/** Every repo on the PDS (listRepos pages through all of them). */
export async function listAllRepos(ctx: CommandContext): Promise<RepoEntry[]> {
  const repos: RepoEntry[] = []
  let cursor: string | undefined
  do {
    const page = await ctx.client.query<{ repos: RepoEntry[]; cursor?: string }>(
      'com.atproto.sync.listRepos',
      { limit: 1000, cursor },
    )
    repos.push(...page.repos)
    cursor = page.repos.length > 0 ? page.cursor : undefined
  } while (cursor)
  return repos
}

/**
 * Handle, email and creation time per DID (getAccountInfos); a PDS without that admin method
 * still gets its handles listed, from describeRepo.
 */
async function accountInfos(
  ctx: CommandContext,
  dids: string[],
): Promise<Map<string, AccountView>> {
  const infos = new Map<string, AccountView>()
  try {
    for (let i = 0; i < dids.length; i += 100) {
      const { infos: page } = await ctx.client.query<{ infos: AccountView[] }>(
        'com.atproto.admin.getAccountInfos',
        { dids: dids.slice(i, i + 100) },
        true,
      )
      for (const info of page) infos.set(info.did, info)
    }
  } catch (err) {
    if (!(err instanceof MethodMissingError)) throw err
    for (const did of dids) {
      const repo = await ctx.client.query<{ handle: string }>('com.atproto.repo.describeRepo', {
        repo: did,
      })
      infos.set(did, { did, handle: repo.handle, indexedAt: '' })
    }
  }
  return infos
}

const list: Command = async (ctx) => {
  const repos = await listAllRepos(ctx)
  const infos = await accountInfos(
    ctx,
    repos.map((r) => r.did),
  )
  const rows = repos.map((repo) => {
    const info = infos.get(repo.did)
    return {
      did: repo.did,
      handle: info?.handle,
      email: info?.email,
      status: repo.active ? 'active' : (repo.status ?? 'inactive'),
      created: info?.indexedAt,
    }
  })
  ctx.out.table(rows)
}

const create: Command = async (ctx) => {
  const handle = stringFlag(ctx, 'handle') ?? ctx.args[0]
  const email = stringFlag(ctx, 'email')
  if (!handle || !email) throw new CliError('account create needs --handle and --email')
  const given = stringFlag(ctx, 'password')
  const password = given ?? generatePassword()
  let inviteCode = stringFlag(ctx, 'invite-code')
  if (!inviteCode) {
    const server = await ctx.client.query<{ inviteCodeRequired?: boolean }>(
      'com.atproto.server.describeServer',
    )
    if (server.inviteCodeRequired) {
      ;({ code: inviteCode } = await ctx.client.procedure<{ code: string }>(
        'com.atproto.server.createInviteCode',
        { useCount: 1 },
        true,
      ))
    }
  }
  const account = await ctx.client.procedure<{ did: string; handle: string }>(
    'com.atproto.server.createAccount',
    { handle, email, password, ...(inviteCode ? { inviteCode } : {}) },
  )
  const shown = given ? {} : { password }
  ctx.out.fields({ did: account.did, handle: account.handle, email, ...shown })
  if (!given) ctx.out.note('The password is shown once: hand it to its owner.')
}

const info: Command = async (ctx) => {
  const did = await resolveAccount(ctx, requireArg(ctx, 0, 'the account (DID or handle)'))
  const account = await ctx.client.query<AccountView>(
    'com.atproto.admin.getAccountInfo',
    { did },
    true,
  )
  const status = await ctx.client.query<{ takedown?: { applied: boolean; ref?: string } }>(
    'com.atproto.admin.getSubjectStatus',
    { did },
    true,
  )
  ctx.out.fields(
    {
      did: account.did,
      handle: account.handle,
      email: account.email,
      'email confirmed': account.emailConfirmedAt ?? 'no',
      created: account.indexedAt,
      deactivated: account.deactivatedAt ?? 'no',
      'taken down': status.takedown?.applied
        ? `yes${status.takedown.ref ? ` (${status.takedown.ref})` : ''}`
        : 'no',
      'invites disabled': account.invitesDisabled ? 'yes' : 'no',
    },
    { ...account, takedown: status.takedown ?? null },
  )
}

const remove: Command = async (ctx) => {
  const did = await resolveAccount(ctx, requireArg(ctx, 0, 'the account (DID or handle)'))
  requireConfirmation(ctx, `deleting ${did} removes its repository and blobs for good`)
  await ctx.client.procedure('com.atproto.admin.deleteAccount', { did }, true)
  ctx.out.fields({ deleted: did }, { did, deleted: true })
}

const takedown =
  (applied: boolean): Command =>
  async (ctx) => {
    const did = await resolveAccount(ctx, requireArg(ctx, 0, 'the account (DID or handle)'))
    const ref = stringFlag(ctx, 'ref')
    await ctx.client.procedure(
      'com.atproto.admin.updateSubjectStatus',
      {
        subject: { $type: 'com.atproto.admin.defs#repoRef', did },
        takedown: { applied, ...(ref && applied ? { ref } : {}) },
      },
      true,
    )
    ctx.out.fields({ did, 'taken down': applied ? 'yes' : 'no' }, { did, takedown: applied })
  }

const resetPassword: Command = async (ctx) => {
  const did = await resolveAccount(ctx, requireArg(ctx, 0, 'the account (DID or handle)'))
  const given = stringFlag(ctx, 'password')
  const password = given ?? generatePassword()
  await ctx.client.procedure('com.atproto.admin.updateAccountPassword', { did, password }, true)
  ctx.out.fields({ did, ...(given ? {} : { password }) })
  if (!given) ctx.out.note('The new password is shown once: hand it to its owner.')
}

const updateHandle: Command = async (ctx) => {
  const did = await resolveAccount(ctx, requireArg(ctx, 0, 'the account (DID or handle)'))
  const handle = requireArg(ctx, 1, 'the new handle')
  await ctx.client.procedure('com.atproto.admin.updateAccountHandle', { did, handle }, true)
  ctx.out.fields({ did, handle })
}

const updateEmail: Command = async (ctx) => {
  const did = await resolveAccount(ctx, requireArg(ctx, 0, 'the account (DID or handle)'))
  const email = requireArg(ctx, 1, 'the new email')
  await ctx.client.procedure('com.atproto.admin.updateAccountEmail', { account: did, email }, true)
  ctx.out.fields({ did, email })
}

export const accountCommands: Record<string, Command> = {
  list,
  create,
  info,
  delete: remove,
  takedown: takedown(true),
  untakedown: takedown(false),
  'reset-password': resetPassword,
  'update-handle': updateHandle,
  'update-email': updateEmail,
}
