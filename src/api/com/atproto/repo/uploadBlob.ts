import { requireCallerAccount } from '../../../../accounts/caller.ts'
import { uploadBlob as storeBlob } from '../../../../blobs/upload.ts'
import { UPLOAD_BLOB_LIMITS } from '../../../../rate-limit.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { blobPermission } from '../../../../xrpc/permission.ts'
import { accessStandardOrServiceAuth } from '../../../auth-verifiers.ts'
import { authorizeCall } from '../../../authorize.ts'

const NSID = 'com.atproto.repo.uploadBlob'

/**
 * Streams the body to R2 as a temporary blob and returns its ref; a record must reference it
 * within the grace period or it is collected. Takes the account's sessions and service-auth
 * tokens for this method (the video service uploads on the user's behalf).
 */
export const uploadBlob = defineMethod(NSID, {
  auth: accessStandardOrServiceAuth(NSID),
  permission: ({ input }) => [blobPermission(input.encoding)],
  rateLimits: UPLOAD_BLOB_LIMITS,
  async handler({ input, auth, env, config, request, db }) {
    // The token may outlive the account (deleted or taken down since). A deactivated account
    // may upload: a migration imports its blobs before activating, as on the reference PDS.
    // Read beside the blob quota (one round trip), and settled before anything is stored.
    const account = requireCallerAccount(db, auth.did)
    account.catch(() => {}) // a refusal before storeBlob awaits it is not a stray rejection
    const blob = await storeBlob(env, config, {
      precondition: account,
      did: auth.did,
      contentType: request.headers.get('content-type'),
      contentLength: input.contentLength,
      body: input.body,
      // An OAuth scope's blob types hold for the type the bytes turn out to be, too.
      authorizeType: (mimeType) => authorizeCall([blobPermission(mimeType)], auth, NSID),
    })
    return { body: { blob } }
  },
})
