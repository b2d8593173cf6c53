/**
 * Lexicon `language`: a BCP-47 (RFC 5646) language tag that is well-formed and has no
 * repeated variant or extension singleton (RFC 5646 §2.2.5, §2.2.6).
 * https://atproto.com/specs/lexicon
 *
 * @NOTE Stricter than the bare RFC grammar in two ways the interop vectors require: the
 * primary language subtag must be lowercase (`JA` is rejected) and the 4-letter form,
 * reserved for future use, is not accepted (`jaja` is rejected).
 */
import { syntaxError } from './errors.ts'

// language (with up to 3 extlangs) - script - region - variants - extensions - private use
const LANGTAG_RE =
  /^(?:[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{5,8})(?:-[a-z]{4})?(?:-(?:[a-z]{2}|[0-9]{3}))?(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*(?:-[0-9a-wy-z](?:-[a-z0-9]{2,8})+)*(?:-x(?:-[a-z0-9]{1,8})+)?$/i
const PRIVATE_USE_RE = /^x(?:-[a-z0-9]{1,8})+$/i
const LOWERCASE_START_RE = /^[a-z]+(?:-|$)/

// RFC 5646 grandfathered tags, which do not all fit the grammar above.
const GRANDFATHERED = new Set([
  'en-gb-oed',
  'i-ami',
  'i-bnn',
  'i-default',
  'i-enochian',
  'i-hak',
  'i-klingon',
  'i-lux',
  'i-mingo',
  'i-navajo',
  'i-pwn',
  'i-tao',
  'i-tay',
  'i-tsu',
  'sgn-be-fr',
  'sgn-be-nl',
  'sgn-ch-de',
  'art-lojban',
  'cel-gaulish',
  'no-bok',
  'no-nyn',
  'zh-guoyu',
  'zh-hakka',
  'zh-min',
  'zh-min-nan',
  'zh-xiang',
])

export function isValidLanguage(value: string): boolean {
  return languageProblem(value) === undefined
}

export function ensureValidLanguage(value: string): void {
  const problem = languageProblem(value)
  if (problem !== undefined) throw syntaxError('language tag', value, problem)
}

function languageProblem(value: string): string | undefined {
  if (PRIVATE_USE_RE.test(value)) return undefined
  if (!LOWERCASE_START_RE.test(value)) {
    return 'must start with a lowercase primary language subtag'
  }
  if (GRANDFATHERED.has(value.toLowerCase())) return undefined
  if (!LANGTAG_RE.test(value)) return 'not a well-formed BCP-47 language tag'
  return repeatedSubtagProblem(value)
}

/** Only called on well-formed tags, so subtag roles follow from their length and position. */
function repeatedSubtagProblem(value: string): string | undefined {
  const subtags = value.toLowerCase().split('-')
  const variants = new Set<string>()
  const singletons = new Set<string>()
  for (let i = 1; i < subtags.length; i++) {
    const subtag = subtags[i]!
    if (subtag === 'x') return undefined
    if (subtag.length === 1) {
      if (singletons.has(subtag)) return `repeated extension singleton "${subtag}"`
      singletons.add(subtag)
    } else if (singletons.size === 0 && isVariant(subtag)) {
      if (variants.has(subtag)) return `repeated variant subtag "${subtag}"`
      variants.add(subtag)
    }
  }
  return undefined
}

function isVariant(subtag: string): boolean {
  return subtag.length >= 5 || (subtag.length === 4 && subtag.charCodeAt(0) <= 0x39)
}
