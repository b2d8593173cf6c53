/** Errors raised by lexicon parsing, lookup and validation. */

/** A lexicon document does not follow the schema language. */
export class LexiconDocError extends Error {
  override name = 'LexiconDocError'
}

/** A value does not match its schema. The message names the path, e.g. `Record/text`. */
export class LexiconValidationError extends Error {
  override name = 'LexiconValidationError'
}

/**
 * A schema or definition needed for validation is not loaded, or has the wrong type (a
 * record asked for but a query found). This is a configuration or routing problem rather
 * than bad data, so the `safeValidate*` functions rethrow it.
 */
export class LexiconDefNotFoundError extends Error {
  override name = 'LexiconDefNotFoundError'
}

export type ValidationResult<T> =
  | { success: true; value: T }
  | { success: false; error: LexiconValidationError }
