/**
 * Changing an account's handle, by its owner (identity.updateHandle) or the operator
 * (admin.updateAccountHandle): the DID document's `alsoKnownAs` (a signed PLC update for
 * did:plc accounts), our D1 row, and an `#identity` event.
 */
import { accountStub, unwrapAccount } from '../bindings.ts'
import type { Config } from '../config.ts'
import { updateAccountHandle } from '../db/accounts.ts'
import { type Db, isUniqueConstraintError } from '../db/index.ts'
import { DomainError, RequestRefusedError } from '../errors.ts'
import {
  cidForPlcOperation,
  createUpdateOperation,
  PlcError,
  signPlcOperation,
} from '../identity/index.ts'
import { identityServices, plcRotationKey } from '../identity/services.ts'

/** `handle` must have been checked for the account already (checkHandleForAccount). */
export async function changeHandle(
  env: Env,
  db: Db,
  config: Config,
  did: string,
  handle: string,
): Promise<void> {
  if (did.startsWith('did:plc:')) {
    const { plc, didResolver } = identityServices(config)
    try {
      const last = await plc.getLastOperation(did)
      const rotationKey = await plcRotationKey(config)
      const op = await signPlcOperation(
        createUpdateOperation(last, await cidForPlcOperation(last), { handle }),
        rotationKey,
      )
      await plc.submitOperation(did, op)
    } catch (err) {
      if (err instanceof PlcError) {
        throw new DomainError(
          'upstream-failure',
          'UpstreamFailure',
          `The PLC directory refused the update: ${err.message}`,
        )
      }
      throw err
    }
    didResolver.clearCache(did)
  }
  try {
    await updateAccountHandle(db, did, handle)
  } catch (err) {
    if (isUniqueConstraintError(err)) {
      throw new RequestRefusedError(`Handle already taken: ${handle}`, 'HandleNotAvailable')
    }
    throw err
  }
  await unwrapAccount(accountStub(env, did).emitIdentity({ handle }))
}
