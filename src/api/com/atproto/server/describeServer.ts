import { defineMethod, publicAccess } from '../../../../xrpc/method.ts'
import { noPermission } from '../../../../xrpc/permission.ts'
import { noRateLimits } from '../../../../xrpc/rate-limits.ts'

/** What a client needs before creating an account here: handle domains, invites, policies. */
export const describeServer = defineMethod('com.atproto.server.describeServer', {
  auth: publicAccess,
  permission: noPermission,
  rateLimits: noRateLimits,
  async handler({ config }) {
    const links: Record<string, string> = {}
    if (config.privacyPolicyUrl) links.privacyPolicy = config.privacyPolicyUrl
    if (config.termsOfServiceUrl) links.termsOfService = config.termsOfServiceUrl
    return {
      body: {
        did: config.serviceDid,
        availableUserDomains: config.handleDomains,
        inviteCodeRequired: config.inviteRequired,
        phoneVerificationRequired: false,
        blobUploadLimit: config.blobUploadLimit,
        links,
        contact: config.contactEmail ? { email: config.contactEmail } : {},
      },
    }
  },
})
