/** Tables for people, JSON (`--json`) for scripts. */
export interface Output {
  json: boolean
  /** Rows as a table, or the value as JSON. */
  table(rows: Record<string, unknown>[], value?: unknown): void
  /** `key: value` lines, or the value as JSON. */
  fields(fields: Record<string, unknown>, value?: unknown): void
  /** A sentence for people; nothing in JSON mode (the JSON says it). */
  note(message: string): void
}

export function createOutput(json: boolean): Output {
  const print = (value: unknown) => console.log(JSON.stringify(value, null, 2))
  return {
    json,
    table(rows, value = rows) {
      if (json) return print(value)
      if (rows.length === 0) return console.log('(none)')
      const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))]
      const cells = rows.map((r) => columns.map((c) => text(r[c])))
      const widths = columns.map((c, i) =>
        Math.max(c.length, ...cells.map((row) => row[i]!.length)),
      )
      const line = (values: string[]) =>
        values
          .map((v, i) => v.padEnd(widths[i]!))
          .join('  ')
          .trimEnd()
      console.log(line(columns.map((c) => c.toUpperCase())))
      for (const row of cells) console.log(line(row))
    },
    fields(fields, value = fields) {
      if (json) return print(value)
      const width = Math.max(...Object.keys(fields).map((k) => k.length))
      for (const [key, v] of Object.entries(fields))
        console.log(`${`${key}:`.padEnd(width + 1)} ${text(v)}`)
    },
    note(message) {
      if (!json) console.log(message)
    },
  }
}

function text(value: unknown): string {
  if (value === undefined || value === null || value === '') return '-'
  if (Array.isArray(value)) return value.map(text).join(', ')
  return String(value)
}
