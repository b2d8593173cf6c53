import { mailStatus } from '../../../../mail/index.ts'
import { defineMethod, publicAccess } from '../../../../xrpc/method.ts'
import { noPermission } from '../../../../xrpc/permission.ts'
import { noRateLimits } from '../../../../xrpc/rate-limits.ts'

/**
 * What a client needs before creating an account here: handle domains, invites, policies; and,
 * under our own key (clients ignore keys their Lexicon lacks), whether this PDS can send email.
 */
export const describeServer = defineMethod('com.atproto.server.describeServer', {
  auth: publicAccess,
  permission: noPermission,
  rateLimits: noRateLimits,
  async handler({ config, env }) {
    const links: Record<string, string> = {}
    if (config.privacyPolicyUrl) links.privacyPolicy = config.privacyPolicyUrl
    if (config.termsOfServiceUrl) links.termsOfService = config.termsOfServiceUrl
    const mail = mailStatus(env, config)
    return {
      body: {
        did: config.serviceDid,
        availableUserDomains: config.handleDomains,
        inviteCodeRequired: config.inviteRequired,
        phoneVerificationRequired: false,
        blobUploadLimit: config.blobUploadLimit,
        links,
        contact: config.contactEmail ? { email: config.contactEmail } : {},
        'dev.edgepds.email': mail.canSend
          ? { canSend: true }
          : {
              canSend: false,
              message:
                'This PDS cannot send email: no email confirmation, password reset or mailed codes',
            },
      },
    }
  },
})
