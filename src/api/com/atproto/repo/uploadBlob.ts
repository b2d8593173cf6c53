import { uploadBlob as storeBlob } from '../../../../blobs/upload.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { blobPermission } from '../../../../xrpc/permission.ts'
import { noRateLimits } from '../../../../xrpc/rate-limits.ts'
import { accessStandardOrServiceAuth } from '../../../auth-verifiers.ts'

const NSID = 'com.atproto.repo.uploadBlob'

/**
 * Streams the body to R2 as a temporary blob and returns its ref; a record must reference it
 * within the grace period or it is collected. Takes the account's sessions and service-auth
 * tokens for this method (the video service uploads on the user's behalf).
 */
export const uploadBlob = defineMethod(NSID, {
  auth: accessStandardOrServiceAuth(NSID),
  permission: ({ input }) => [blobPermission(input.encoding)],
  rateLimits: noRateLimits,
  async handler({ input, auth, env, config, request }) {
    const blob = await storeBlob(env, config, {
      did: auth.did,
      contentType: request.headers.get('content-type'),
      contentLength: input.contentLength,
      body: input.body,
    })
    return { body: { blob } }
  },
})
