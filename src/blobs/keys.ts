/**
 * Where blobs live in R2. Each upload streams to a key of its own, chosen before the CID is
 * known (R2 cannot rename): `blob/<did>/<upload id>`. D1 maps (did, CID) to the key, so a
 * second upload of the same bytes never overwrites an object a row points to, and deleting
 * a queued key can never hit a live blob.
 */

export function blobPrefix(did: string): string {
  return `blob/${did}/`
}

export function newBlobKey(did: string): string {
  return `${blobPrefix(did)}${crypto.randomUUID()}`
}
