/**
 * Per-isolate identity services built from config: DID and handle resolvers (with their
 * caches), the PLC client, and this PDS's PLC rotation key.
 */
import { type Config, requireSecret } from '../config.ts'
import { Secp256k1Keypair } from '../crypto/index.ts'
import { DidResolver, HandleResolver, PlcClient } from './index.ts'

interface IdentityServices {
  didResolver: DidResolver
  handleResolver: HandleResolver
  plc: PlcClient
}

const cache = new WeakMap<Config, IdentityServices>()
const rotationKeys = new Map<string, Promise<Secp256k1Keypair>>()

export function identityServices(config: Config): IdentityServices {
  let services = cache.get(config)
  if (!services) {
    services = {
      didResolver: new DidResolver({ plcUrl: config.plcUrl, devMode: config.devMode }),
      handleResolver: new HandleResolver({}),
      plc: new PlcClient(config.plcUrl),
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
