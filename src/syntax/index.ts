/** Syntax checks for atproto identifiers and lexicon string formats, plus TID generation. */
export { ensureValidAtIdentifier, isValidAtIdentifier } from './at-identifier.ts'
export { AtUri, ensureValidAtUri, isValidAtUri, MAX_AT_URI_LENGTH } from './at-uri.ts'
export { ensureValidCidString, isValidCidString } from './cid-string.ts'
export { ensureValidDatetime, isValidDatetime, normalizeDatetime } from './datetime.ts'
export { ensureValidDid, isValidDid, MAX_DID_LENGTH } from './did.ts'
export { InvalidSyntaxError } from './errors.ts'
export {
  ensureValidHandle,
  INVALID_HANDLE,
  isDisallowedHandleTld,
  isValidHandle,
  MAX_HANDLE_LENGTH,
  normalizeHandle,
} from './handle.ts'
export { ensureValidLanguage, isValidLanguage } from './language.ts'
export {
  ensureValidNsid,
  isValidNsid,
  MAX_NSID_LENGTH,
  normalizeNsid,
  type ParsedNsid,
  parseNsid,
} from './nsid.ts'
export { ensureValidRecordKey, isValidRecordKey, MAX_RECORD_KEY_LENGTH } from './record-key.ts'
export {
  ensureValidTid,
  isValidTid,
  nextTid,
  TID_LENGTH,
  tidFromTimestampMicros,
  tidToClockId,
  tidToTimestampMicros,
} from './tid.ts'
export { ensureValidUri, isValidUri, MAX_URI_BYTES } from './uri.ts'
