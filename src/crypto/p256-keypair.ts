import { EcdsaKeypair, generatePrivateKey, readPrivateKey } from './keypair.ts'

/** NIST P-256 (JWT `ES256`). */
export class P256Keypair extends EcdsaKeypair {
  private constructor(privateKey: Uint8Array) {
    super('ES256', privateKey)
  }

  static async create(): Promise<P256Keypair> {
    return new P256Keypair(generatePrivateKey('ES256'))
  }

  /** `privateKey` is 32 raw bytes or their hex form. */
  static async import(privateKey: Uint8Array | string): Promise<P256Keypair> {
    return new P256Keypair(readPrivateKey('ES256', privateKey))
  }
}
