/**
 * Every XRPC method this PDS serves itself. Anything else is proxied (or 501).
 * One file per method, named after it, under `com/atproto/...` and `app/bsky/...`.
 */
import { createRegistry, type MethodRegistry } from '../xrpc/dispatch.ts'
import { resolveHandle } from './com/atproto/identity/resolveHandle.ts'
import { updateHandle } from './com/atproto/identity/updateHandle.ts'
import { applyWrites } from './com/atproto/repo/applyWrites.ts'
import { createRecord } from './com/atproto/repo/createRecord.ts'
import { deleteRecord } from './com/atproto/repo/deleteRecord.ts'
import { describeRepo } from './com/atproto/repo/describeRepo.ts'
import { getRecord } from './com/atproto/repo/getRecord.ts'
import { listRecords } from './com/atproto/repo/listRecords.ts'
import { putRecord } from './com/atproto/repo/putRecord.ts'
import { activateAccount } from './com/atproto/server/activateAccount.ts'
import { checkAccountStatus } from './com/atproto/server/checkAccountStatus.ts'
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
import { getSession } from './com/atproto/server/getSession.ts'
import { listAppPasswords } from './com/atproto/server/listAppPasswords.ts'
import { refreshSession } from './com/atproto/server/refreshSession.ts'
import { requestAccountDelete } from './com/atproto/server/requestAccountDelete.ts'
import { revokeAppPassword } from './com/atproto/server/revokeAppPassword.ts'
import { getAccountTokens } from './dev/edgepds/admin/getAccountTokens.ts'

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
    getSession,
    listAppPasswords,
    refreshSession,
    requestAccountDelete,
    revokeAppPassword,
    // com.atproto.identity
    resolveHandle,
    updateHandle,
    // com.atproto.repo
    applyWrites,
    createRecord,
    deleteRecord,
    describeRepo,
    getRecord,
    listRecords,
    putRecord,
    // this PDS's own operator methods (no Lexicon)
    getAccountTokens,
  ])
}
