/**
 * The restore. Everything that can be checked offline is checked before the PLC directory is
 * touched: the backup (repo signature and tree, blob hashes), the recovery key (one of the
 * DID's rotation keys), the new PDS (answers). Then:
 *
 * 1. a PLC operation signed with the recovery key names a fresh signing key held here, so
 *    that this command can vouch for the DID to the new PDS (the old PDS would otherwise
 *    sign the createAccount service-auth token);
 * 2. the account is created on the new PDS (deactivated), the repo imported, the blobs
 *    uploaded, the preferences put;
 * 3. a second operation, also signed with the recovery key, points the DID at the new PDS
 *    with its recommended credentials, the recovery key kept first; the new PDS submits it;
 * 4. the account is activated and the result checked against the PLC directory.
 *
 * Running it again after a failure in 2-4 continues: the account already on the new PDS is
 * signed in to instead of created.
 */
import { readFile } from 'node:fs/promises'
import { createServiceAuthToken } from '../../src/auth/service-auth.ts'
import { Secp256k1Keypair } from '../../src/crypto/index.ts'
import {
  cidForPlcOperation,
  createUpdateOperation,
  PlcClient,
  type PlcOperation,
  signPlcOperation,
  type UpdateOperationChanges,
} from '../../src/identity/index.ts'
import { BackupFolder, checkBackup } from '../backup/layout.ts'
import { PASSWORD_ENV } from '../client/account.ts'
import { listBlobCids } from '../client/blob-list.ts'
import { CommandError, log } from '../client/command.ts'
import { startProgress } from '../client/progress.ts'
import { askSecret } from '../client/secret-prompt.ts'
import { signIn } from '../client/sign-in.ts'
import { type Session, XrpcClient, XrpcError } from '../client/xrpc.ts'
import { resignedIfNeeded } from '../migrate/served-repo.ts'
import { copiable } from '../migrate/steps/preferences.ts'
import { decodePaperKey } from '../recovery-key/paper-key.ts'

export interface RestoreOptions {
  dir: string
  to: string
  email: string
  handle?: string
  inviteCode?: string
  recoveryKey: string
  plcUrl: string
  env: NodeJS.ProcessEnv
}

const CREATE_ACCOUNT = 'com.atproto.server.createAccount'
const UNCHANGED = 'nothing was changed'

interface Credentials {
  rotationKeys?: string[]
  alsoKnownAs?: string[]
  verificationMethods?: Record<string, string>
  services?: PlcOperation['services']
}

export async function restoreAccount(opts: RestoreOptions): Promise<void> {
  const folder = new BackupFolder(opts.dir)
  const backup = await checkBackup(folder).catch((err: unknown) => {
    throw err instanceof CommandError ? new CommandError(`${err.message}; ${UNCHANGED}`) : err
  })
  const { did } = backup.meta
  log(
    `Backup of ${did} at rev ${backup.meta.rev} verified: ${backup.records.size} records, ` +
      `${backup.blobs.length} blobs.`,
  )
  const recovery = await Secp256k1Keypair.import(decodePaperKey(opts.recoveryKey))
  const plc = new PlcClient(opts.plcUrl)
  const current = await plc.getDocumentData(did)
  const rank = current.rotationKeys.indexOf(recovery.did())
  if (rank < 0) {
    throw new CommandError(
      `this recovery key (${recovery.did()}) is not one of ${did}'s rotation keys; ${UNCHANGED}`,
    )
  }
  if (rank > 0) {
    log(
      `Warning: your key is rotation key ${rank + 1}; a higher key can undo this restore's ` +
        'PLC operations within 72 hours.',
    )
  }
  const handle = opts.handle ?? backup.meta.handle
  if (!handle) throw new CommandError('the backup names no handle: give --handle')
  const next = new XrpcClient(opts.to, 'the new PDS')
  const server = await next.query<{ did: string; inviteCodeRequired?: boolean }>(
    'com.atproto.server.describeServer',
    { auth: 'none' },
  )
  // Refusals the new PDS would give only after the first PLC operation, found before it.
  if (server.inviteCodeRequired && !opts.inviteCode) {
    throw new CommandError(`${opts.to} requires an invite code: give --invite-code; ${UNCHANGED}`)
  }
  await checkHandleFree(next, handle, did, opts.to)
  const password = opts.env[PASSWORD_ENV] || (await askSecret(`Password for ${handle}: `))
  if (!password) throw new CommandError('no password given')

  if (await existsOn(next, did)) {
    log(`${did} already exists on ${opts.to}: signing in to continue.`)
    await signIn(next, did, password, PASSWORD_ENV)
  } else {
    const holder = await Secp256k1Keypair.create()
    await updateDid(plc, did, recovery, { signingKeyDid: holder.did() })
    log('PLC: the DID now names a signing key held by this command (signed with your key).')
    const token = await createServiceAuthToken({
      iss: did,
      aud: server.did,
      lxm: CREATE_ACCOUNT,
      keypair: holder,
      expiresInSeconds: 300,
    })
    try {
      next.session = await next.procedure<Session>(CREATE_ACCOUNT, {
        auth: { bearer: token },
        body: {
          did,
          handle,
          email: opts.email,
          password,
          ...(opts.inviteCode ? { inviteCode: opts.inviteCode } : {}),
        },
      })
    } catch (err) {
      if (err instanceof XrpcError && err.status === 400) {
        throw new CommandError(`the new PDS refused to create the account: ${err.message}`)
      }
      throw err
    }
    log(`Created ${handle} on ${opts.to} (deactivated until the end).`)
  }

  await next.procedure('com.atproto.repo.importRepo', {
    bodyFactory: async () => ({
      body: backup.car as BodyInit,
      type: 'application/vnd.ipld.car',
      length: backup.car.byteLength,
    }),
  })
  log(`Imported the repo (rev ${backup.meta.rev}).`)
  const progress = startProgress('blob upload', { count: backup.blobs.length })
  for (const cid of backup.blobs) {
    const bytes = await readFile(folder.blob(cid))
    await next.procedure('com.atproto.repo.uploadBlob', {
      bodyFactory: async () => ({
        body: bytes as BodyInit,
        type: 'application/octet-stream',
        length: bytes.byteLength,
      }),
      retry: true,
    })
    progress.add(1, bytes.byteLength)
  }
  progress.finish()
  const preferences = copiable(backup.preferences as { $type?: string }[])
  await next.procedure('app.bsky.actor.putPreferences', { body: { preferences }, retry: true })
  log(`Put ${preferences.length} preferences.`)

  const creds = await next.query<Credentials>('com.atproto.identity.getRecommendedDidCredentials')
  const operation = await signedUpdate(plc, did, recovery, {
    rotationKeys: [
      recovery.did(),
      ...(creds.rotationKeys ?? []).filter((k) => k !== recovery.did()),
    ],
    ...(creds.alsoKnownAs ? { alsoKnownAs: creds.alsoKnownAs } : {}),
    ...(creds.verificationMethods ? { verificationMethods: creds.verificationMethods } : {}),
    ...(creds.services ? { services: creds.services } : {}),
  })
  await next.procedure('com.atproto.identity.submitPlcOperation', { body: { operation } })
  log(`PLC: the DID now points at ${opts.to} with its signing key (signed with your key).`)
  await next.procedure('com.atproto.server.activateAccount')
  await verifyRestore(next, plc, did, recovery.did(), opts.to, creds, backup.records)
  log(`Done: ${handle} (${did}) lives on ${opts.to}, with ${backup.records.size} records.`)
}

/** A handle the new PDS already gives to another DID would fail createAccount. */
async function checkHandleFree(
  client: XrpcClient,
  handle: string,
  did: string,
  to: string,
): Promise<void> {
  let holder: string
  try {
    ;({ did: holder } = await client.query<{ did: string }>('com.atproto.identity.resolveHandle', {
      params: { handle },
      auth: 'none',
    }))
  } catch (err) {
    // Not resolvable there (or not answered): createAccount decides.
    if (err instanceof XrpcError) return
    throw err
  }
  if (holder !== did) {
    throw new CommandError(
      `${handle} belongs to another account (${holder}) on ${to}: give another --handle; ${UNCHANGED}`,
    )
  }
}

async function existsOn(client: XrpcClient, did: string): Promise<boolean> {
  try {
    await client.query('com.atproto.sync.getRepoStatus', { params: { did }, auth: 'none' })
    return true
  } catch (err) {
    if (err instanceof XrpcError && err.error === 'RepoNotFound') return false
    throw err
  }
}

/** The DID's next operation, signed with the recovery key. */
async function signedUpdate(
  plc: PlcClient,
  did: string,
  key: Secp256k1Keypair,
  changes: UpdateOperationChanges,
): Promise<PlcOperation> {
  const last = await plc.getLastOperation(did)
  const unsigned = createUpdateOperation(last, await cidForPlcOperation(last), changes)
  return signPlcOperation(unsigned, key)
}

async function updateDid(
  plc: PlcClient,
  did: string,
  key: Secp256k1Keypair,
  changes: UpdateOperationChanges,
): Promise<void> {
  await plc.submitOperation(did, await signedUpdate(plc, did, key, changes))
}

/** What a relay would check: the PLC document, and the repo signed with the key it names. */
async function verifyRestore(
  next: XrpcClient,
  plc: PlcClient,
  did: string,
  recoveryKey: string,
  to: string,
  creds: Credentials,
  records: Map<string, string>,
): Promise<void> {
  const problems: string[] = []
  const data = await plc.getDocumentData(did)
  if (data.services.atproto_pds?.endpoint !== to) {
    problems.push(`the PLC document names ${data.services.atproto_pds?.endpoint}, not ${to}`)
  }
  const key = data.verificationMethods.atproto
  if (!key || key !== creds.verificationMethods?.atproto) {
    problems.push("the PLC document's signing key is not the new PDS's")
  }
  if (data.rotationKeys[0] !== recoveryKey) problems.push('your key is no longer first')
  const repo = await resignedIfNeeded(next, did, key ?? null)
  if (repo.resigned) {
    log(
      'The new PDS served the imported commit under the old signature: an empty commit re-signed it.',
    )
  }
  if (!repo.signed) problems.push("the new repo's commit does not verify with the DID's key")
  const differing = [...records].filter(([path, cid]) => repo.records.get(path) !== cid).length
  if (differing > 0 || repo.records.size !== records.size) {
    problems.push(
      `${differing} records differ, ${repo.records.size} on the new PDS vs ${records.size}`,
    )
  }
  const listed = await listBlobCids(next, did)
  const missing = await next.query<{ blobs: unknown[] }>('com.atproto.repo.listMissingBlobs')
  if (missing.blobs.length > 0)
    problems.push(`${missing.blobs.length} blobs missing (of ${listed.length})`)
  if (problems.length > 0) {
    throw new CommandError(`the restore did not check out:\n  - ${problems.join('\n  - ')}`)
  }
}
