/**
 * Per-isolate identity services built from config: DID and handle resolvers (with their
 * caches), the PLC client, the permission sets of OAuth scopes (resolved as Lexicons, cached),
 * and this PDS's PLC rotation key.
 */
import {
  cachingPermissionSetResolver,
  type PermissionSetResolver,
} from '../auth/scopes/permission-sets.ts'
import { type Config, requireSecret } from '../config.ts'
import { Secp256k1Keypair } from '../crypto/index.ts'
import { DidResolver, HandleResolver, PlcClient } from './index.ts'
import { resolveLexicon } from './lexicon-resolver.ts'

interface IdentityServices {
  didResolver: DidResolver
  handleResolver: HandleResolver
  plc: PlcClient
  /** For `include:` scopes at grant time (`grantScope`, src/auth/scopes). */
  permissionSets: PermissionSetResolver
}

const cache = new WeakMap<Config, IdentityServices>()
const rotationKeys = new Map<string, Promise<Secp256k1Keypair>>()

export function identityServices(config: Config): IdentityServices {
  let services = cache.get(config)
  if (!services) {
    const didResolver = new DidResolver({ plcUrl: config.plcUrl, devMode: config.devMode })
    const handleResolver = new HandleResolver({})
    services = {
      didResolver,
      handleResolver,
      plc: new PlcClient(config.plcUrl),
      permissionSets: cachingPermissionSetResolver(async (nsid) => {
        const lexicon = await resolveLexicon(nsid, {
          txtDid: (name) => handleResolver.resolveTxtDid(name),
          didResolver,
          devMode: config.devMode,
        })
        return lexicon.document
      }),
    }
    cache.set(config, services)
  }
  return services
}

/** The key this PDS signs PLC operations with (PDS_PLC_ROTATION_KEY). */
export function plcRotationKey(config: Config): Promise<Secp256k1Keypair> {
  const hex = requireSecret(config, 'plcRotationKey')
  let key = rotationKeys.get(hex)
  if (!key) {
    key = Secp256k1Keypair.import(hex)
    rotationKeys.set(hex, key)
  }
  return key
}
