/**
 * The slice of a Durable Object's SQLite storage (`ctx.storage`) the plain classes use, typed
 * structurally so they do not depend on the Workers runtime types.
 */

export type SqlValue = ArrayBuffer | string | number | null

export type SqlRow = Record<string, SqlValue>

export interface SqlCursorLike<T extends SqlRow> extends Iterable<T> {
  toArray(): T[]
  one(): T
}

export interface SqlLike {
  /** Bindings may be strings, numbers, null, ArrayBuffers or Uint8Arrays. */
  // biome-ignore lint/suspicious/noExplicitAny: mirrors SqlStorage.exec, whose row type is the caller's claim
  exec<T extends SqlRow = any>(query: string, ...bindings: unknown[]): SqlCursorLike<T>
}

export interface SqlStorageLike {
  readonly sql: SqlLike
  /** Runs `fn` as one SQLite transaction: all of its writes or none. */
  transactionSync<T>(fn: () => T): T
}

/** SQLite hands BLOBs back as ArrayBuffers. */
export function blobBytes(value: SqlValue | undefined): Uint8Array {
  if (value instanceof ArrayBuffer) return new Uint8Array(value)
  throw new TypeError(`expected a BLOB column, got ${value === null ? 'null' : typeof value}`)
}
