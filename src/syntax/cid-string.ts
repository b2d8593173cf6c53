/**
 * Lexicon `cid` string format: a loose syntax check, not a parse.
 *
 * @NOTE multiformats' CID.parse is both too strict (it only decodes a few multibases, so
 * valid base64/base16/base8 CIDs fail) and too loose (it accepts CIDv0 `Qm…`, which atproto
 * does not allow). Use src/data/cid.ts when the CID itself is needed.
 */
import { syntaxError } from './errors.ts'

const CID_STRING_RE = /^[a-zA-Z0-9+=]{8,256}$/

export function isValidCidString(value: string): boolean {
  return CID_STRING_RE.test(value) && !value.startsWith('Qm')
}

export function ensureValidCidString(value: string): void {
  if (isValidCidString(value)) return
  const reason = value.startsWith('Qm')
    ? 'CIDv0 is not supported'
    : 'expected 8-256 characters of a multibase string'
  throw syntaxError('CID', value, reason)
}
