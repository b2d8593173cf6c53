/** What every command gets: the PDS client, the output, its arguments and the target. */
import { randomBytes } from 'node:crypto'
import type { XrpcClient } from '../client.ts'
import { CliError } from '../client.ts'
import type { Output } from '../output.ts'
import type { Target } from '../target.ts'

export interface CommandContext {
  client: XrpcClient
  out: Output
  target: Target
  /** Positional arguments after the command words. */
  args: string[]
  flags: Record<string, string | boolean | undefined>
}

export type Command = (ctx: CommandContext) => Promise<void>

export function stringFlag(ctx: CommandContext, name: string): string | undefined {
  const value = ctx.flags[name]
  return typeof value === 'string' ? value : undefined
}

export function requireArg(ctx: CommandContext, index: number, what: string): string {
  const value = ctx.args[index]
  if (!value) throw new CliError(`missing ${what}`)
  return value
}

/** A password for a new account or a reset, shown once. */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url')
}

/** A DID as given, or the DID a handle resolves to on this PDS. */
export async function resolveAccount(ctx: CommandContext, subject: string): Promise<string> {
  if (subject.startsWith('did:')) return subject
  const { did } = await ctx.client.query<{ did: string }>('com.atproto.identity.resolveHandle', {
    handle: subject.replace(/^@/, ''),
  })
  return did
}

export function requireConfirmation(ctx: CommandContext, what: string): void {
  if (ctx.flags.yes !== true) throw new CliError(`${what}: add --yes to confirm`)
}
