/** A PLC operation that is malformed, or that cannot be built from the given inputs. */
export class PlcOperationError extends Error {
  override name = 'PlcOperationError'
}

/** A value that is not a usable DID document. */
export class DidDocumentError extends Error {
  override name = 'DidDocumentError'
}

/** A DID could not be resolved: unsupported method, network failure, bad response. */
export class DidResolutionError extends Error {
  override name = 'DidResolutionError'
}

/** The DID's method answered, and the DID does not exist (or is tombstoned). */
export class DidNotFoundError extends DidResolutionError {
  override name = 'DidNotFoundError'
}
