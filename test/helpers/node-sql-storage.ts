/**
 * A Durable Object's SQLite surface (`ctx.storage.sql` and `transactionSync`, as
 * src/storage/sql.ts types it) over Node's own SQLite, so the account object's plain classes
 * run outside workerd: fast unit tests and bench:repo-scale. Same engine, same SQL; BLOBs come
 * back as ArrayBuffers as they do in workerd.
 */
import { DatabaseSync } from 'node:sqlite'
import type { SqlCursorLike, SqlRow, SqlStorageLike } from '../../src/storage/sql.ts'

export class NodeSqlStorage implements SqlStorageLike {
  readonly db = new DatabaseSync(':memory:')
  /** Statements that inserted into `block`, for benchmarks counting writes. */
  blockInserts = 0
  readonly sql = {
    exec: <T extends SqlRow>(query: string, ...bindings: unknown[]): SqlCursorLike<T> => {
      if (query.includes('INSERT OR IGNORE INTO block')) this.blockInserts++
      const statement = this.db.prepare(query)
      const trimmed = query.trimStart().toUpperCase()
      const returnsRows = /^(SELECT|WITH|PRAGMA)\b/.test(trimmed) || /\bRETURNING\b/i.test(query)
      const params = bindings.map((b) => (b instanceof ArrayBuffer ? new Uint8Array(b) : b))
      let rows: Record<string, unknown>[] = []
      if (returnsRows) rows = statement.all(...(params as never[])) as Record<string, unknown>[]
      else statement.run(...(params as never[]))
      const converted = rows.map((row) => {
        const out: Record<string, unknown> = {}
        for (const [k, v] of Object.entries(row)) {
          out[k] = v instanceof Uint8Array ? v.slice().buffer : v
        }
        return out as T
      })
      return {
        toArray: () => converted,
        one: () => {
          if (converted.length !== 1) throw new Error(`expected one row, got ${converted.length}`)
          return converted[0]!
        },
        [Symbol.iterator]: () => converted[Symbol.iterator](),
      }
    },
  }

  transactionSync<T>(fn: () => T): T {
    this.db.exec('BEGIN')
    try {
      const result = fn()
      this.db.exec('COMMIT')
      return result
    } catch (err) {
      this.db.exec('ROLLBACK')
      throw err
    }
  }
}
