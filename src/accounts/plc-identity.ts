/**
 * An account's did:plc identity during a migration: the credentials its DID document should
 * name to be hosted here (moving in), an update our rotation key signs for the user (moving
 * out, possibly to another host), and the checks an operation signed elsewhere must pass
 * before we hand it to the PLC directory (moving in).
 */
import type { Config } from '../config.ts'
import type { AccountRow } from '../db/accounts.ts'
import { DomainError, RequestRefusedError } from '../errors.ts'
import {
  ATPROTO_PDS_SERVICE_TYPE,
  assertRotationKeys,
  assertVerificationMethods,
  assertWellFormedOperation,
  cidForPlcOperation,
  createUpdateOperation,
  PlcError,
  type PlcOperation,
  PlcOperationError,
  type PlcService,
  parsePlcOperation,
  parseServices,
  parseVerificationMethods,
  rotationKeysOf,
  type SignedPlcOperation,
  signPlcOperation,
  type UpdateOperationChanges,
  verifyPlcOperation,
} from '../identity/index.ts'

export type { UpdateOperationChanges }

import { identityServices, plcRotationKey } from '../identity/services.ts'

/** The PLC directory could not be reached or failed (502). */
export class PlcDirectoryError extends DomainError {
  override name = 'PlcDirectoryError'

  constructor(message: string) {
    super('upstream-failure', 'UpstreamFailure', message)
  }
}

/** What the DID document of an account hosted here should hold. */
export interface DidCredentials {
  /** did:plc only: our rotation key, so this PDS can update the document later. */
  rotationKeys?: string[]
  alsoKnownAs: string[]
  verificationMethods: Record<string, string>
  services: Record<string, PlcService>
}

/** The fields signPlcOperation may set, as the client sent them (each replaces the old). */
export interface RequestedPlcFields {
  rotationKeys?: string[]
  alsoKnownAs?: string[]
  verificationMethods?: unknown
  services?: unknown
}

export async function recommendedDidCredentials(
  config: Config,
  account: Pick<AccountRow, 'did' | 'handle' | 'signingKeyDid'>,
): Promise<DidCredentials> {
  const credentials: DidCredentials = {
    alsoKnownAs: [`at://${account.handle}`],
    verificationMethods: { atproto: account.signingKeyDid },
    services: { atproto_pds: { type: ATPROTO_PDS_SERVICE_TYPE, endpoint: config.publicUrl } },
  }
  if (isPlcDid(account.did)) {
    credentials.rotationKeys = [(await plcRotationKey(config)).did()]
  }
  return credentials
}

/**
 * The DID's current state with `fields` replaced, signed by our rotation key: nothing is
 * submitted, the user takes the operation to the new host (or the directory) themselves.
 */
export async function signPlcUpdate(
  config: Config,
  did: string,
  changes: UpdateOperationChanges,
): Promise<PlcOperation> {
  assertPlcDid(did)
  const last = await currentOperation(config, did)
  const rotationKey = await plcRotationKey(config)
  if (!rotationKeysOf(last).includes(rotationKey.did())) {
    throw new RequestRefusedError(
      "This server's rotation key is not among the DID's rotation keys: it cannot sign an update",
    )
  }
  const unsigned = asRequestError(async () =>
    createUpdateOperation(last, await cidForPlcOperation(last), changes),
  )
  return signPlcOperation(await unsigned, rotationKey)
}

/**
 * Checks an operation the user had signed (by the old host, or with their own rotation key)
 * against what hosting the account here needs and against the DID's current state, then
 * submits it. Nothing is submitted when a check fails.
 */
export async function submitPlcOperationForAccount(
  config: Config,
  account: Pick<AccountRow, 'did' | 'handle' | 'signingKeyDid'>,
  input: unknown,
): Promise<void> {
  assertPlcDid(account.did)
  const op = await asRequestError(async () => {
    const parsed = parsePlcOperation(input)
    if (parsed.type !== 'plc_operation') {
      throw new PlcOperationError(`expected a plc_operation, not ${parsed.type}`)
    }
    assertWellFormedOperation(parsed)
    return parsed
  })
  await checkHostedHere(config, account, op)

  const last = await currentOperation(config, account.did)
  const lastCid = await cidForPlcOperation(last)
  if (op.prev !== lastCid) {
    throw new RequestRefusedError(
      `The operation does not follow the DID's current operation: prev must be ${lastCid}`,
    )
  }
  if (!(await verifyPlcOperation(op, rotationKeysOf(last)))) {
    throw new RequestRefusedError(
      "The operation is not signed by one of the DID's current rotation keys",
    )
  }

  const { plc, didResolver } = identityServices(config)
  try {
    await plc.submitOperation(account.did, op)
  } catch (err) {
    if (err instanceof PlcError && err.status >= 400 && err.status < 500) {
      throw new RequestRefusedError(`The PLC directory refused the operation: ${err.message}`)
    }
    throw directoryError(err)
  }
  didResolver.clearCache(account.did)
}

/** Our endpoint, the account's signing key here, its handle and our rotation key. */
async function checkHostedHere(
  config: Config,
  account: Pick<AccountRow, 'handle' | 'signingKeyDid'>,
  op: PlcOperation,
): Promise<void> {
  const pds = op.services.atproto_pds
  if (pds?.type !== ATPROTO_PDS_SERVICE_TYPE) {
    throw new RequestRefusedError(
      `The operation's atproto_pds service must have type ${ATPROTO_PDS_SERVICE_TYPE}`,
    )
  }
  if (pds.endpoint.replace(/\/+$/, '') !== config.publicUrl) {
    throw new RequestRefusedError(
      `The operation's atproto_pds endpoint is ${pds.endpoint}, not this server (${config.publicUrl})`,
    )
  }
  if (op.verificationMethods.atproto !== account.signingKeyDid) {
    throw new RequestRefusedError(
      `The operation's atproto verification method must be this account's signing key here (${account.signingKeyDid})`,
    )
  }
  const aka = op.alsoKnownAs.find((uri) => uri.startsWith('at://'))
  if (aka?.toLowerCase() !== `at://${account.handle}`) {
    throw new RequestRefusedError(
      `The operation's alsoKnownAs must name the account's handle here (at://${account.handle})`,
    )
  }
  const rotationKey = (await plcRotationKey(config)).did()
  if (!op.rotationKeys.includes(rotationKey)) {
    throw new RequestRefusedError(
      `The operation's rotationKeys must include this server's rotation key (${rotationKey})`,
    )
  }
}

/** The fields signPlcOperation was given, checked (before its token is used up). */
export function parsePlcFields(fields: RequestedPlcFields): UpdateOperationChanges {
  const changes: UpdateOperationChanges = {}
  try {
    if (fields.rotationKeys !== undefined) {
      assertRotationKeys(fields.rotationKeys)
      changes.rotationKeys = fields.rotationKeys
    }
    if (fields.alsoKnownAs !== undefined) changes.alsoKnownAs = fields.alsoKnownAs
    if (fields.verificationMethods !== undefined) {
      changes.verificationMethods = parseVerificationMethods(fields.verificationMethods)
      assertVerificationMethods(changes.verificationMethods)
    }
    if (fields.services !== undefined) changes.services = parseServices(fields.services)
  } catch (err) {
    throw requestError(err)
  }
  return changes
}

/** The DID's newest operation; a tombstoned DID cannot be updated. */
async function currentOperation(
  config: Config,
  did: string,
): Promise<Exclude<SignedPlcOperation, { type: 'plc_tombstone' }>> {
  let last: SignedPlcOperation
  try {
    last = await identityServices(config).plc.getLastOperation(did)
  } catch (err) {
    if (err instanceof PlcError && err.status === 404) {
      throw new RequestRefusedError(`The PLC directory does not know ${did}`)
    }
    throw directoryError(err)
  }
  if (last.type === 'plc_tombstone') {
    throw new RequestRefusedError(`${did} is tombstoned: no operation can follow`)
  }
  return last
}

/** A did:web is changed where its document is hosted: no PLC operation can touch it. */
export function assertPlcDid(did: string): void {
  if (!isPlcDid(did)) {
    throw new RequestRefusedError(`PLC operations apply to did:plc accounts only, not to ${did}`)
  }
}

function isPlcDid(did: string): boolean {
  return did.startsWith('did:plc:')
}

async function asRequestError<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (err) {
    throw requestError(err)
  }
}

function requestError(err: unknown): unknown {
  return err instanceof PlcOperationError
    ? new RequestRefusedError(`Invalid PLC operation: ${err.message}`)
    : err
}

function directoryError(err: unknown): unknown {
  return err instanceof PlcError
    ? new PlcDirectoryError(`The PLC directory failed: ${err.message}`)
    : err
}
