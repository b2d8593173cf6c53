import { checkEmailAddress, checkNewPassword } from '../../../../accounts/account-input.ts'
import { checkHandleForAccount } from '../../../../accounts/handles.ts'
import { releaseReservedKey, reservedKeyFor } from '../../../../accounts/reserved-keys.ts'
import { encryptPrivateKey, hashPassword } from '../../../../auth/index.ts'
import { accountStub, unwrapAccount } from '../../../../bindings.ts'
import { requireSecret } from '../../../../config.ts'
import { isValidDidKey, Secp256k1Keypair } from '../../../../crypto/index.ts'
import { deleteAccountRows, insertAccount } from '../../../../db/accounts.ts'
import { type Db, isUniqueConstraintError } from '../../../../db/index.ts'
import { remainingInviteUses, useInviteCode } from '../../../../db/invites.ts'
import { didDocumentFromOperation } from '../../../../identity/did-document-from-op.ts'
import {
  createGenesisOperation,
  didForGenesisOperation,
  PlcError,
  signPlcOperation,
} from '../../../../identity/index.ts'
import { identityServices, plcRotationKey } from '../../../../identity/services.ts'
import { LIMITS } from '../../../../rate-limit.ts'
import { openSession } from '../../../../sessions/open.ts'
import { isValidDid } from '../../../../syntax/index.ts'
import {
  AuthRequiredError,
  InvalidRequestError,
  UpstreamFailureError,
} from '../../../../xrpc/errors.ts'
import { defineMethod, publicAccess } from '../../../../xrpc/method.ts'
import { noPermission } from '../../../../xrpc/permission.ts'
import { bearerToken, verifyIncomingServiceAuth } from '../../../auth-verifiers.ts'

/**
 * Creates an account: a new did:plc (our rotation key, the user's recovery key first when
 * given), its own signing key, the empty repo in its Durable Object, and a session. With
 * `did` and a service-auth token from the old PDS, it instead imports an existing identity
 * as a deactivated account (the migration path).
 */
export const createAccount = defineMethod('com.atproto.server.createAccount', {
  auth: publicAccess,
  permission: noPermission,
  rateLimits: [{ limit: LIMITS.createAccountPerIp, key: 'ip' }],
  async handler({ input, env, config, request, db }) {
    const migratingDid = input.did ? await checkMigration(request, input.did, config) : null
    const email = checkEmailAddress(input.email)
    const password = checkNewPassword(input.password)
    const recoveryKey = checkRecoveryKey(input.recoveryKey)
    const handle = await checkHandleForAccount(db, config, input.handle, migratingDid)
    if (config.inviteRequired) await checkInvite(db, input.inviteCode)

    // A DID moving here signs with the key reserved for it, if any: the one its PLC operation
    // may already name (reserveSigningKey).
    const reserved = migratingDid ? await reservedKeyFor(db, migratingDid) : null
    const signingKey = await Secp256k1Keypair.create()
    let did = migratingDid
    let didDoc: Record<string, unknown> | undefined
    let submitGenesis: (() => Promise<void>) | null = null
    if (!did) {
      const rotationKey = await plcRotationKey(config)
      const op = await signPlcOperation(
        createGenesisOperation({
          signingKeyDid: signingKey.did(),
          handle,
          pdsEndpoint: config.publicUrl,
          rotationKeys: [rotationKey.did()],
          recoveryKey,
        }),
        rotationKey,
      )
      const newDid = didForGenesisOperation(op)
      did = newDid
      didDoc = didDocumentFromOperation(newDid, op)
      submitGenesis = () => identityServices(config).plc.submitOperation(newDid, op)
    }

    const now = new Date().toISOString()
    const signingKeyDid = reserved?.signingKeyDid ?? signingKey.did()
    const signingKeyEncrypted =
      reserved?.signingKeyEncrypted ??
      (await encryptPrivateKey(
        signingKey.exportPrivateKey(),
        requireSecret(config, 'keyEncryptionSecret'),
        did,
      ))
    try {
      await insertAccount(db, {
        did,
        handle,
        email,
        passwordHash: await hashPassword(password, config.passwordHash),
        signingKeyEncrypted,
        signingKeyDid,
        status: migratingDid ? 'deactivated' : 'active',
        createdAt: now,
        deactivatedAt: migratingDid ? now : null,
      })
    } catch (err) {
      if (isUniqueConstraintError(err)) {
        throw new InvalidRequestError(
          'Handle, email or DID already registered on this server',
          'HandleNotAvailable',
        )
      }
      throw err
    }

    // From here on the account row exists: undo it if a later step fails.
    const accountDid = did
    try {
      if (config.inviteRequired && !(await useInviteCode(db, input.inviteCode ?? '', did, now))) {
        throw new InvalidRequestError('Invite code has no uses left', 'InvalidInviteCode')
      }
      if (submitGenesis) await submitGenesis()
      await unwrapAccount(
        accountStub(env, did).createRepo({
          did,
          handle,
          signingKey: signingKeyEncrypted,
          active: !migratingDid,
        }),
      )
    } catch (err) {
      await deleteAccountRows(db, accountDid)
      if (err instanceof PlcError) {
        throw new UpstreamFailureError(`The PLC directory refused the new DID: ${err.message}`)
      }
      throw err
    }

    if (reserved) await releaseReservedKey(db, did)
    const tokens = await openSession(db, config, { did, appPassword: null })
    return { body: { ...tokens, handle, did, ...(didDoc ? { didDoc } : {}) } }
  },
})

function checkRecoveryKey(key: string | undefined): string | undefined {
  if (!key) return undefined
  if (isValidDidKey(key)) return key
  throw new InvalidRequestError('recoveryKey must be a did:key of a p256 or secp256k1 public key')
}

async function checkInvite(db: Db, code: string | undefined): Promise<void> {
  if (!code) throw new InvalidRequestError('An invite code is required', 'InvalidInviteCode')
  const remaining = await remainingInviteUses(db, code)
  if (remaining === null || remaining <= 0) {
    throw new InvalidRequestError(
      'Invite code is not valid or has no uses left',
      'InvalidInviteCode',
    )
  }
}

/**
 * An existing DID moving here: the old PDS vouches with a service-auth token signed by the
 * DID's current key, addressed to us, for this very method.
 */
async function checkMigration(
  request: Request,
  did: string,
  config: Parameters<typeof identityServices>[0],
): Promise<string> {
  if (!isValidDid(did)) throw new InvalidRequestError('Invalid DID')
  if (!request.headers.get('authorization')) {
    throw new AuthRequiredError('Importing a DID needs a service-auth token from its current PDS')
  }
  const { didResolver } = identityServices(config)
  const claims = await verifyIncomingServiceAuth(
    bearerToken(request),
    config,
    'com.atproto.server.createAccount',
    async (iss, forceRefresh) => {
      if (forceRefresh) didResolver.clearCache(iss)
      const data = await didResolver.resolveAtprotoData(iss)
      if (!data.signingKey) throw new Error(`no signing key in the DID document of ${iss}`)
      return data.signingKey
    },
  )
  if (claims.issDid !== did) {
    throw new AuthRequiredError('The service-auth token was issued by another DID')
  }
  return did
}
