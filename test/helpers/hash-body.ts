/** Node-side helper for the e2e tests and the blob bench: large bodies checked without holding them. */
import { createHash } from 'node:crypto'

/** Streams a response body through SHA-256; returns the hex digest and the byte count. */
export async function hashBody(res: Response): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256')
  let size = 0
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    hash.update(chunk)
    size += chunk.byteLength
  }
  return { sha256: hash.digest('hex'), size }
}
