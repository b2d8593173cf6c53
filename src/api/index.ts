/**
 * Every XRPC method this PDS serves itself. Anything else is proxied (or 501).
 * One file per method, named after it, under `com/atproto/...` and `app/bsky/...`.
 */
import { createRegistry, type MethodRegistry } from '../xrpc/dispatch.ts'
import { getPreferences } from './app/bsky/actor/getPreferences.ts'
import { putPreferences } from './app/bsky/actor/putPreferences.ts'
import { getFeed } from './app/bsky/feed/getFeed.ts'
import { deleteAccount as adminDeleteAccount } from './com/atproto/admin/deleteAccount.ts'
import { disableAccountInvites } from './com/atproto/admin/disableAccountInvites.ts'
import { disableInviteCodes } from './com/atproto/admin/disableInviteCodes.ts'
import { enableAccountInvites } from './com/atproto/admin/enableAccountInvites.ts'
import { getAccountInfo } from './com/atproto/admin/getAccountInfo.ts'
import { getAccountInfos } from './com/atproto/admin/getAccountInfos.ts'
import { getInviteCodes } from './com/atproto/admin/getInviteCodes.ts'
import { getSubjectStatus } from './com/atproto/admin/getSubjectStatus.ts'
import { searchAccounts } from './com/atproto/admin/searchAccounts.ts'
import { sendEmail } from './com/atproto/admin/sendEmail.ts'
import { updateAccountEmail } from './com/atproto/admin/updateAccountEmail.ts'
import { updateAccountHandle } from './com/atproto/admin/updateAccountHandle.ts'
import { updateAccountPassword } from './com/atproto/admin/updateAccountPassword.ts'
import { updateSubjectStatus } from './com/atproto/admin/updateSubjectStatus.ts'
import { getRecommendedDidCredentials } from './com/atproto/identity/getRecommendedDidCredentials.ts'
import { requestPlcOperationSignature } from './com/atproto/identity/requestPlcOperationSignature.ts'
import { resolveDid } from './com/atproto/identity/resolveDid.ts'
import { resolveHandle } from './com/atproto/identity/resolveHandle.ts'
import { resolveIdentity } from './com/atproto/identity/resolveIdentity.ts'
import { signPlcOperation } from './com/atproto/identity/signPlcOperation.ts'
import { submitPlcOperation } from './com/atproto/identity/submitPlcOperation.ts'
import { updateHandle } from './com/atproto/identity/updateHandle.ts'
import { applyWrites } from './com/atproto/repo/applyWrites.ts'
import { createRecord } from './com/atproto/repo/createRecord.ts'
import { deleteRecord } from './com/atproto/repo/deleteRecord.ts'
import { describeRepo } from './com/atproto/repo/describeRepo.ts'
import { getRecord } from './com/atproto/repo/getRecord.ts'
import { importRepo } from './com/atproto/repo/importRepo.ts'
import { listMissingBlobs } from './com/atproto/repo/listMissingBlobs.ts'
import { listRecords } from './com/atproto/repo/listRecords.ts'
import { putRecord } from './com/atproto/repo/putRecord.ts'
import { uploadBlob } from './com/atproto/repo/uploadBlob.ts'
import { activateAccount } from './com/atproto/server/activateAccount.ts'
import { checkAccountStatus } from './com/atproto/server/checkAccountStatus.ts'
import { confirmEmail } from './com/atproto/server/confirmEmail.ts'
import { createAccount } from './com/atproto/server/createAccount.ts'
import { createAppPassword } from './com/atproto/server/createAppPassword.ts'
import { createInviteCode } from './com/atproto/server/createInviteCode.ts'
import { createInviteCodes } from './com/atproto/server/createInviteCodes.ts'
import { createSession } from './com/atproto/server/createSession.ts'
import { deactivateAccount } from './com/atproto/server/deactivateAccount.ts'
import { deleteAccount } from './com/atproto/server/deleteAccount.ts'
import { deleteSession } from './com/atproto/server/deleteSession.ts'
import { describeServer } from './com/atproto/server/describeServer.ts'
import { getAccountInviteCodes } from './com/atproto/server/getAccountInviteCodes.ts'
import { getServiceAuth } from './com/atproto/server/getServiceAuth.ts'
import { getSession } from './com/atproto/server/getSession.ts'
import { listAppPasswords } from './com/atproto/server/listAppPasswords.ts'
import { refreshSession } from './com/atproto/server/refreshSession.ts'
import { requestAccountDelete } from './com/atproto/server/requestAccountDelete.ts'
import { requestEmailConfirmation } from './com/atproto/server/requestEmailConfirmation.ts'
import { requestEmailUpdate } from './com/atproto/server/requestEmailUpdate.ts'
import { requestPasswordReset } from './com/atproto/server/requestPasswordReset.ts'
import { reserveSigningKey } from './com/atproto/server/reserveSigningKey.ts'
import { resetPassword } from './com/atproto/server/resetPassword.ts'
import { revokeAppPassword } from './com/atproto/server/revokeAppPassword.ts'
import { updateEmail } from './com/atproto/server/updateEmail.ts'
import { getBlob } from './com/atproto/sync/getBlob.ts'
import { getBlocks } from './com/atproto/sync/getBlocks.ts'
import { getCheckout } from './com/atproto/sync/getCheckout.ts'
import { getHead } from './com/atproto/sync/getHead.ts'
import { getLatestCommit } from './com/atproto/sync/getLatestCommit.ts'
import { getRecord as syncGetRecord } from './com/atproto/sync/getRecord.ts'
import { getRepo } from './com/atproto/sync/getRepo.ts'
import { getRepoStatus } from './com/atproto/sync/getRepoStatus.ts'
import { listBlobs } from './com/atproto/sync/listBlobs.ts'
import { listRepos } from './com/atproto/sync/listRepos.ts'
import { checkSignupQueue } from './com/atproto/temp/checkSignupQueue.ts'
import { getMailStatus } from './dev/edgepds/admin/getMailStatus.ts'

export function buildRegistry(): MethodRegistry {
  return createRegistry([
    // com.atproto.server
    activateAccount,
    checkAccountStatus,
    createAccount,
    createAppPassword,
    createInviteCode,
    createInviteCodes,
    createSession,
    deactivateAccount,
    deleteAccount,
    deleteSession,
    describeServer,
    getAccountInviteCodes,
    getServiceAuth,
    getSession,
    listAppPasswords,
    refreshSession,
    requestAccountDelete,
    reserveSigningKey,
    revokeAppPassword,
    // com.atproto.server: email
    confirmEmail,
    requestEmailConfirmation,
    requestEmailUpdate,
    requestPasswordReset,
    resetPassword,
    updateEmail,
    // com.atproto.identity
    getRecommendedDidCredentials,
    requestPlcOperationSignature,
    signPlcOperation,
    submitPlcOperation,
    resolveDid,
    resolveHandle,
    resolveIdentity,
    updateHandle,
    // com.atproto.repo
    applyWrites,
    createRecord,
    deleteRecord,
    describeRepo,
    getRecord,
    listRecords,
    importRepo,
    listMissingBlobs,
    putRecord,
    uploadBlob,
    // com.atproto.sync (repos; subscribeRepos is routed in worker/app.ts)
    getBlocks,
    getCheckout,
    getHead,
    getLatestCommit,
    syncGetRecord,
    getRepo,
    getRepoStatus,
    listRepos,
    // com.atproto.sync (blobs)
    getBlob,
    listBlobs,
    // app.bsky: preferences kept here, getFeed forwarded with the feed generator as audience
    getPreferences,
    putPreferences,
    getFeed,
    // com.atproto.admin (the operator, or the moderation service)
    adminDeleteAccount,
    disableAccountInvites,
    disableInviteCodes,
    enableAccountInvites,
    getAccountInfo,
    getAccountInfos,
    getInviteCodes,
    getSubjectStatus,
    searchAccounts,
    sendEmail,
    updateAccountEmail,
    updateAccountHandle,
    updateAccountPassword,
    updateSubjectStatus,
    // com.atproto.temp
    checkSignupQueue,
    // this PDS's own operator methods (no Lexicon)
    getMailStatus,
  ])
}
