import { mailStatus } from '../../../../mail/index.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { noPermission } from '../../../../xrpc/permission.ts'
import { type AdminAuth, adminAuth, adminRateLimits } from '../../../auth-verifiers.ts'

/**
 * Operator-only, this PDS's own method (no Lexicon): how mail leaves this PDS.
 * `GET /xrpc/dev.edgepds.admin.getMailStatus` with admin Basic auth answers `{mailer, canSend,
 * from, problem?}`: `mailer` is `cloudflare`, `resend`, `dev` or `none`.
 */
export const getMailStatus = defineMethod<Record<string, unknown>, unknown, AdminAuth>({
  nsid: 'dev.edgepds.admin.getMailStatus',
  auth: adminAuth,
  permission: noPermission,
  rateLimits: adminRateLimits,
  async handler({ config, env }) {
    const status = mailStatus(env, config)
    const problem =
      status.mailer === 'none'
        ? 'No mailer: set PDS_MAILER (cloudflare or resend) and PDS_EMAIL_FROM. Users cannot confirm addresses, reset passwords or receive codes.'
        : !status.canSend
          ? 'PDS_MAILER=cloudflare but the send_email binding EMAIL is missing from wrangler.toml'
          : undefined
    return {
      body: { ...status, from: config.mail?.from ?? null, ...(problem ? { problem } : {}) },
    }
  },
})
