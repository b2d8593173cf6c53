/** A did:key, multikey or verification method that cannot be read as a supported key. */
export class DidKeyError extends Error {
  override name = 'DidKeyError'
}

/** Private key bytes that are not a valid scalar for the curve. */
export class PrivateKeyError extends Error {
  override name = 'PrivateKeyError'
}
