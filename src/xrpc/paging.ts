/**
 * Cursor paging as XRPC list methods do it: fetch one row more than asked, so the answer
 * carries a `cursor` only when another page exists (its absence means the end, per the spec).
 */
export interface Page<T> {
  rows: T[]
  /** The cursor for the next page, or undefined at the end. */
  cursor: string | undefined
}

export async function fetchPage<T>(
  limit: number,
  fetchRows: (limitPlusOne: number) => Promise<T[]>,
  cursorOf: (row: T) => string,
): Promise<Page<T>> {
  const rows = await fetchRows(limit + 1)
  const page = rows.slice(0, limit)
  const last = page.at(-1)
  return { rows: page, cursor: rows.length > limit && last ? cursorOf(last) : undefined }
}

/** `{[key]: items}` plus `cursor` only when there is one. */
export function pageBody<K extends string, T>(
  key: K,
  items: T[],
  cursor: string | undefined,
): { [P in K]: T[] } & { cursor?: string } {
  const body = cursor === undefined ? { [key]: items } : { [key]: items, cursor }
  return body as { [P in K]: T[] } & { cursor?: string }
}
