/**
 * Signature verification. Strict by default, as commit signatures must be: only the 64-byte
 * compact form with low S. A bad signature is `false`, never an exception.
 */
import { CURVES } from './curves.ts'
import { type ParsedDidKey, parseDidKey } from './did-key.ts'

export interface VerifyOptions {
  /** Also accept high-S signatures (the reference accepts them on service-auth JWTs). */
  allowMalleable?: boolean
}

/** Throws DidKeyError only when `didKey` itself is malformed. */
export async function verifySignature(
  didKey: string,
  message: Uint8Array,
  signature: Uint8Array,
  opts: VerifyOptions = {},
): Promise<boolean> {
  return verifySignatureWithKey(parseDidKey(didKey), message, signature, opts)
}

export async function verifySignatureWithKey(
  key: ParsedDidKey,
  message: Uint8Array,
  signature: Uint8Array,
  opts: VerifyOptions = {},
): Promise<boolean> {
  if (signature.length !== 64) return false
  try {
    return CURVES[key.jwtAlg].ecdsa.verify(signature, message, key.publicKey, {
      prehash: true,
      lowS: opts.allowMalleable !== true,
      format: 'compact',
    })
  } catch {
    return false
  }
}
