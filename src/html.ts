/**
 * Server-rendered HTML, escaped in one place: the `html` tagged template escapes every
 * interpolated value unless it is already `Html` (or a list of it). Used by the OAuth pages,
 * the admin page and the mails; below every layer, like `limits.ts`.
 */

/** Markup that is already safe (built by `html` or escaped). */
export class Html {
  readonly value: string
  constructor(value: string) {
    this.value = value
  }
  toString(): string {
    return this.value
  }
}

/** Safe for HTML text and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;')
}

/** What a template may interpolate: null, undefined and false render as nothing. */
export type HtmlPart = Html | string | number | null | undefined | false | readonly HtmlPart[]

function render(part: unknown): string {
  if (part === null || part === undefined || part === false) return ''
  if (part instanceof Html) return part.value
  if (Array.isArray(part)) return part.map(render).join('')
  return escapeHtml(String(part))
}

export function html(strings: TemplateStringsArray, ...values: HtmlPart[]): Html {
  let out = strings[0] ?? ''
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '')
  })
  return new Html(out)
}
