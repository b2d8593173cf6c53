import { checkEmailAddress } from '../../../../accounts/account-input.ts'
import { issueAccountToken } from '../../../../accounts/tokens.ts'
import { getAccountByEmail } from '../../../../db/accounts.ts'
import { mailerFor } from '../../../../mail/index.ts'
import { MailerNotConfiguredError } from '../../../../mail/mailer.ts'
import { LIMITS } from '../../../../rate-limit.ts'
import { defineMethod, publicAccess } from '../../../../xrpc/method.ts'
import { noPermission } from '../../../../xrpc/permission.ts'

const AFTER_RESPONSE_MS = 1000

/**
 * Mails a reset code when an account has this address. The answer is the same either way, and
 * comes before the lookup: the lookup and the mail run after the response, so neither the body
 * nor the time tells whether the address is known (the mail leaves about a second later).
 */
export const requestPasswordReset = defineMethod('com.atproto.server.requestPasswordReset', {
  auth: publicAccess,
  permission: noPermission,
  rateLimits: [
    { limit: LIMITS.mailPerIp, key: 'ip' },
    { limit: LIMITS.mailPerAddress, key: ({ input }) => input.email.trim().toLowerCase() },
  ],
  async handler(call) {
    // Refusals that depend on no account: a malformed address, no mailer.
    const email = checkEmailAddress(call.input.email)
    if (!mailerFor(call.env, call.config, call.db)) throw new MailerNotConfiguredError()
    call.waitUntil(
      (async () => {
        // Started at once, the lookup and the mail would share the isolate with this response
        // and slow it for known addresses only (measured under `npm run dev`: +50 ms).
        await new Promise((resolve) => setTimeout(resolve, AFTER_RESPONSE_MS))
        const account = await getAccountByEmail(call.db, email)
        if (!account || account.status === 'deleted') return
        await issueAccountToken(call, account, 'reset_password')
      })().catch((err) => {
        // Only the failure's message: never the address asked about or a code.
        console.error('requestPasswordReset: the mail was not sent:', (err as Error).message)
      }),
    )
    return undefined
  },
})
