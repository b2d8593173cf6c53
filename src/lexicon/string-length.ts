/**
 * String measures used by lexicon constraints: UTF-8 byte length (min/maxLength) and
 * grapheme clusters (min/maxGraphemes), both without allocating on the common path.
 */

export { utf8Length } from '../data/utf8.ts'

let segmenter: Intl.Segmenter | undefined

/**
 * Number of extended grapheme clusters in `text`, counting no further than `limit`
 * (so a huge string checked against a small maximum stops early).
 */
export function graphemeLength(text: string, limit = Number.POSITIVE_INFINITY): number {
  segmenter ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' })
  let count = 0
  for (const _ of segmenter.segment(text)) {
    if (++count > limit) break
  }
  return count
}
