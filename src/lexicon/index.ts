/**
 * Lexicon schemas: document parsing, a registry, and validation of records and XRPC
 * traffic in data-model form. `getDefaultLexicons()` serves the official com.atproto,
 * app.bsky and chat.bsky schemas bundled into generated/lexicons.ts.
 */
import { lexiconDocs } from './generated/lexicons.ts'
import { Lexicons } from './lexicons.ts'

export { absoluteRef } from './absolute-refs.ts'
export {
  LexiconDefNotFoundError,
  LexiconDocError,
  LexiconValidationError,
  type ValidationResult,
} from './errors.ts'
export { Lexicons, type LexiconsOptions } from './lexicons.ts'
export { parseLexiconDoc } from './parse-doc.ts'
export { graphemeLength, utf8Length } from './string-length.ts'
export * from './types.ts'
export type { RawXrpcParams } from './validate-params.ts'
export { acceptsMimeType } from './validate-value.ts'

let defaultLexicons: Lexicons | undefined

/**
 * The bundled official schemas. Each one is checked and prepared on first use (the unit
 * tests load them all eagerly, so none can fail).
 */
export function getDefaultLexicons(): Lexicons {
  defaultLexicons ??= new Lexicons(lexiconDocs, { lazy: true })
  return defaultLexicons
}
