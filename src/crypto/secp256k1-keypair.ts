import { EcdsaKeypair, generatePrivateKey, readPrivateKey } from './keypair.ts'

/** secp256k1 (K-256, JWT `ES256K`): the curve the reference PDS uses by default. */
export class Secp256k1Keypair extends EcdsaKeypair {
  private constructor(privateKey: Uint8Array) {
    super('ES256K', privateKey)
  }

  static async create(): Promise<Secp256k1Keypair> {
    return new Secp256k1Keypair(generatePrivateKey('ES256K'))
  }

  /** `privateKey` is 32 raw bytes or their hex form. */
  static async import(privateKey: Uint8Array | string): Promise<Secp256k1Keypair> {
    return new Secp256k1Keypair(readPrivateKey('ES256K', privateKey))
  }
}
