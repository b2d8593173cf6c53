/**
 * TypeScript shapes of the Lexicon schema language (version 1), as checked by
 * `parseLexiconDoc`. Field names follow the spec exactly so a parsed document can be
 * used as-is.
 */

export const LEXICON_VERSION = 1

export const STRING_FORMATS = [
  'at-identifier',
  'at-uri',
  'cid',
  'datetime',
  'did',
  'handle',
  'language',
  'nsid',
  'record-key',
  'tid',
  'uri',
] as const

export type LexStringFormat = (typeof STRING_FORMATS)[number]

interface LexBase {
  description?: string
}

export interface LexBoolean extends LexBase {
  type: 'boolean'
  default?: boolean
  const?: boolean
}

export interface LexInteger extends LexBase {
  type: 'integer'
  minimum?: number
  maximum?: number
  enum?: number[]
  default?: number
  const?: number
}

export interface LexString extends LexBase {
  type: 'string'
  format?: LexStringFormat
  /** In UTF-8 bytes. */
  minLength?: number
  /** In UTF-8 bytes. */
  maxLength?: number
  /** In grapheme clusters. */
  minGraphemes?: number
  /** In grapheme clusters. */
  maxGraphemes?: number
  knownValues?: string[]
  enum?: string[]
  default?: string
  const?: string
}

export interface LexBytes extends LexBase {
  type: 'bytes'
  minLength?: number
  maxLength?: number
}

export interface LexCidLink extends LexBase {
  type: 'cid-link'
}

export interface LexBlob extends LexBase {
  type: 'blob'
  // Full MIME types, `type/*` globs, or `*/*` for any type.
  accept?: string[]
  /** In bytes. */
  maxSize?: number
}

export interface LexUnknown extends LexBase {
  type: 'unknown'
}

export interface LexToken extends LexBase {
  type: 'token'
}

export interface LexRef extends LexBase {
  type: 'ref'
  /** `#name`, `nsid` or `nsid#name`. */
  ref: string
}

export interface LexRefUnion extends LexBase {
  type: 'union'
  refs: string[]
  /** Unions are open unless this is true. */
  closed?: boolean
}

export interface LexArray extends LexBase {
  type: 'array'
  items: LexFieldType
  minLength?: number
  maxLength?: number
}

export interface LexObject extends LexBase {
  type: 'object'
  properties: Record<string, LexFieldType>
  required?: string[]
  nullable?: string[]
}

export type LexPrimitive = LexBoolean | LexInteger | LexString

/** What a `params` property can be: a primitive or an array of primitives. */
export type LexParamType = LexPrimitive | (LexArray & { items: LexPrimitive })

export interface LexXrpcParameters extends LexBase {
  type: 'params'
  properties: Record<string, LexParamType>
  required?: string[]
}

/** Any schema that can describe a field value. */
export type LexFieldType =
  | LexBoolean
  | LexInteger
  | LexString
  | LexBytes
  | LexCidLink
  | LexBlob
  | LexArray
  | LexObject
  | LexRef
  | LexRefUnion
  | LexUnknown

export interface LexXrpcBody {
  description?: string
  encoding: string
  schema?: LexObject | LexRef | LexRefUnion
}

export interface LexXrpcSubscriptionMessage {
  description?: string
  schema: LexRefUnion
}

export interface LexXrpcError {
  name: string
  description?: string
}

export interface LexRecord extends LexBase {
  type: 'record'
  /** Record-key type: `tid`, `nsid`, `any` or `literal:<value>`. */
  key: string
  record: LexObject
}

export interface LexXrpcQuery extends LexBase {
  type: 'query'
  parameters?: LexXrpcParameters
  output?: LexXrpcBody
  errors?: LexXrpcError[]
}

export interface LexXrpcProcedure extends LexBase {
  type: 'procedure'
  parameters?: LexXrpcParameters
  input?: LexXrpcBody
  output?: LexXrpcBody
  errors?: LexXrpcError[]
}

export interface LexXrpcSubscription extends LexBase {
  type: 'subscription'
  parameters?: LexXrpcParameters
  message: LexXrpcSubscriptionMessage
  errors?: LexXrpcError[]
}

/**
 * One permission of a permission set. Fields beyond `resource` depend on the resource
 * (`repo`: collection, action; `rpc`: lxm, aud, inheritAud) and may grow over time.
 */
export interface LexPermission {
  type: 'permission'
  resource: string
  [field: string]: unknown
}

export interface LexPermissionSet extends LexBase {
  type: 'permission-set'
  title?: string
  'title:lang'?: Record<string, string>
  detail?: string
  'detail:lang'?: Record<string, string>
  permissions: LexPermission[]
}

export type LexPrimaryType =
  | LexRecord
  | LexXrpcQuery
  | LexXrpcProcedure
  | LexXrpcSubscription
  | LexPermissionSet

/** Everything that may appear as a named definition under `defs`. */
export type LexUserType =
  | LexPrimaryType
  | LexToken
  | LexObject
  | LexArray
  | LexBoolean
  | LexInteger
  | LexString
  | LexBytes
  | LexCidLink
  | LexBlob

export interface LexiconDoc {
  lexicon: 1
  id: string
  revision?: number
  description?: string
  defs: Record<string, LexUserType>
}

export const PRIMARY_TYPES: ReadonlySet<string> = new Set([
  'record',
  'query',
  'procedure',
  'subscription',
  'permission-set',
])
