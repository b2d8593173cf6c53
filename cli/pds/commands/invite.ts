/** `invite create|list|disable`: createInviteCodes and the admin invite-code methods. */
import { CliError } from '../client.ts'
import { type Command, stringFlag } from './context.ts'

interface InviteCode {
  code: string
  available: number
  disabled: boolean
  forAccount: string
  createdAt: string
  uses: { usedBy: string; usedAt: string }[]
}

const create: Command = async (ctx) => {
  const count = Number(stringFlag(ctx, 'count') ?? 1)
  const uses = Number(stringFlag(ctx, 'uses') ?? 1)
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(uses) || uses < 1) {
    throw new CliError('--count and --uses are positive integers')
  }
  const forAccount = stringFlag(ctx, 'for')
  const { codes } = await ctx.client.procedure<{ codes: { account: string; codes: string[] }[] }>(
    'com.atproto.server.createInviteCodes',
    { codeCount: count, useCount: uses, ...(forAccount ? { forAccounts: [forAccount] } : {}) },
    true,
  )
  const rows = codes.flatMap((c) => c.codes.map((code) => ({ code, uses, for: c.account })))
  ctx.out.table(rows, { codes: rows.map((r) => r.code), useCount: uses })
}

const list: Command = async (ctx) => {
  const codes: InviteCode[] = []
  let cursor: string | undefined
  do {
    const page = await ctx.client.query<{ codes: InviteCode[]; cursor?: string }>(
      'com.atproto.admin.getInviteCodes',
      { limit: 500, cursor, sort: 'recent' },
      true,
    )
    codes.push(...page.codes)
    cursor = page.codes.length > 0 ? page.cursor : undefined
  } while (cursor)
  ctx.out.table(
    codes.map((c) => ({
      code: c.code,
      available: c.available,
      used: c.uses.length,
      disabled: c.disabled ? 'yes' : 'no',
      for: c.forAccount,
      created: c.createdAt,
    })),
    codes,
  )
}

const disable: Command = async (ctx) => {
  const account = stringFlag(ctx, 'account')
  if (ctx.args.length === 0 && !account) {
    throw new CliError('invite disable needs codes, or --account <did> for all of its codes')
  }
  await ctx.client.procedure(
    'com.atproto.admin.disableInviteCodes',
    { codes: ctx.args, accounts: account ? [account] : [] },
    true,
  )
  ctx.out.fields(
    { disabled: [...ctx.args, ...(account ? [`all codes of ${account}`] : [])] },
    {
      codes: ctx.args,
      accounts: account ? [account] : [],
    },
  )
}

export const inviteCommands: Record<string, Command> = { create, list, disable }
