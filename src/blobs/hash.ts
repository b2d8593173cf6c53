/**
 * SHA-256 over a stream, chunk by chunk. `crypto.subtle.digest` needs the whole input at once,
 * so workerd's native `crypto.DigestStream` is used where it exists, and @noble/hashes
 * elsewhere (pure JS: about half a second of CPU per 100 MB in Node, too much for a Worker).
 */
import { sha256 } from '@noble/hashes/sha2.js'

export interface StreamingSha256 {
  /** Feeds a chunk; the caller must await before feeding the next (backpressure). */
  update(chunk: Uint8Array): Promise<void>
  digest(): Promise<Uint8Array>
}

type DigestStreamCtor = new (
  algorithm: string,
) => WritableStream<Uint8Array> & {
  digest: Promise<ArrayBuffer>
}

export function createSha256(): StreamingSha256 {
  const native = (crypto as unknown as { DigestStream?: DigestStreamCtor }).DigestStream
  if (native) {
    const stream = new native('SHA-256')
    const writer = stream.getWriter()
    return {
      update: (chunk) => writer.write(chunk),
      async digest() {
        await writer.close()
        return new Uint8Array(await stream.digest)
      },
    }
  }
  const hash = sha256.create()
  return {
    async update(chunk) {
      hash.update(chunk)
    },
    async digest() {
      return hash.digest()
    },
  }
}
