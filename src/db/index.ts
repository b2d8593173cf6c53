/** The D1 database through drizzle-orm, typed by our schema. */
import { DrizzleD1Database, drizzle, SQLiteD1Session } from 'drizzle-orm/d1'
import {
  createTableRelationsHelpers,
  extractTablesRelationalConfig,
  type RelationalSchemaConfig,
  type TablesRelationalConfig,
} from 'drizzle-orm/relations'
import { SQLiteAsyncDialect } from 'drizzle-orm/sqlite-core'
import * as schema from './schema.ts'

export type Db = DrizzleD1Database<typeof schema>

const cache = new WeakMap<D1Database, Db>()

export function getDb(d1: D1Database): Db {
  let db = cache.get(d1)
  if (!db) {
    db = drizzle(d1, { schema })
    cache.set(d1, db)
  }
  return db
}

type Relational = RelationalSchemaConfig<TablesRelationalConfig>
let relational: Relational | undefined
const dialect = new SQLiteAsyncDialect()

/**
 * A Db over a D1 session (`D1Database.withSession`), one or two per request. drizzle's D1
 * driver only prepares statements and runs batches, which a session does too. `drizzle()`
 * costs ~130 µs (it derives the relational config from the schema, then builds a query builder
 * per table): here the config is derived once, and the builders (`db.query`, which almost no
 * code uses) only when first asked for.
 */
export function sessionDb(session: D1DatabaseSession): Db {
  relational ??= relationalConfig()
  const client = session as unknown as D1Database
  const d1Session = new SQLiteD1Session(client, dialect, relational, {})
  const db = new DrizzleD1Database('async', dialect, d1Session, undefined) as Db
  Object.assign(db, { $client: client })
  let withQueries: Db | null = null
  Object.defineProperty(db, 'query', {
    get: () => {
      withQueries ??= new DrizzleD1Database('async', dialect, d1Session, relational) as Db
      return withQueries.query
    },
  })
  return db
}

/**
 * The D1 binding (or session) under `db`, for the hot reads that skip drizzle's query builder
 * (src/db/record-reads.ts): they run on the request's session like every other read.
 */
export function d1Of(db: Db): D1Database {
  return (db as Db & { $client: D1Database }).$client
}

function relationalConfig(): Relational {
  const { tables, tableNamesMap } = extractTablesRelationalConfig(
    schema,
    createTableRelationsHelpers,
  )
  return { fullSchema: schema, schema: tables, tableNamesMap }
}

/** D1 reports unique-constraint violations only through the error message. */
export function isUniqueConstraintError(err: unknown): boolean {
  const message = err instanceof Error ? `${err.message} ${String(err.cause ?? '')}` : String(err)
  return /UNIQUE constraint failed|SQLITE_CONSTRAINT/i.test(message)
}

export { schema }
