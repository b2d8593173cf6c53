/**
 * Checks that a JSON value is a well-formed Lexicon document (schema language v1).
 * https://atproto.com/specs/lexicon
 *
 * The check is structural: every definition has a known `type` with well-typed fields,
 * primary types only appear as `main`, and meta/sub-types (`ref`, `union`, `unknown`,
 * `params`, `permission`) are never named definitions. Whether refs point at loaded
 * definitions is only known when validating data, so it is not checked here. Unknown
 * extra fields are ignored, as with data.
 */
import { isValidLanguage, isValidNsid, isValidRecordKey } from '../syntax/index.ts'
import { LexiconDocError } from './errors.ts'
import { LEXICON_VERSION, type LexiconDoc, PRIMARY_TYPES, STRING_FORMATS } from './types.ts'

type Obj = Record<string, unknown>

const NOT_NAMEABLE = new Set(['ref', 'union', 'unknown', 'params', 'permission'])
const FORMATS: ReadonlySet<string> = new Set(STRING_FORMATS)
const PARAM_TYPES = new Set(['boolean', 'integer', 'string'])
const BODY_SCHEMA_TYPES = new Set(['object', 'ref', 'union'])
const RECORD_KEY_TYPES = new Set(['tid', 'nsid', 'any'])
const DEF_NAME = /^[a-zA-Z][a-zA-Z0-9_]*$/
const MIME_PATTERN = /^(?:\*\/\*|[^\s/*]+\/\*|[^\s/*]+\/[^\s/*]+)$/

/** Returns the input typed as a LexiconDoc, or throws LexiconDocError saying what is wrong. */
export function parseLexiconDoc(json: unknown): LexiconDoc {
  if (!isObject(json)) throw new LexiconDocError('Lexicon document must be an object')
  const id = json.id
  if (typeof id !== 'string') throw new LexiconDocError('Lexicon document id must be a string')
  if (!isValidNsid(id)) throw new LexiconDocError(`Lexicon document id "${id}" is not an NSID`)
  const check: DocChecker = new DocChecker(id)
  if (json.lexicon !== LEXICON_VERSION) {
    check.fail('lexicon', `must be the integer ${LEXICON_VERSION}`)
  }
  check.optionalInteger(json, 'revision', '')
  check.optionalString(json, 'description', '')
  const defs = json.defs
  if (!isObject(defs)) check.fail('defs', 'must be an object')
  const names = Object.keys(defs)
  if (names.length === 0) check.fail('defs', 'must not be empty')
  for (const name of names) {
    check.namedDef(name, defs[name])
  }
  return json as unknown as LexiconDoc
}

class DocChecker {
  readonly id: string

  constructor(id: string) {
    this.id = id
  }

  fail(path: string, message: string): never {
    throw new LexiconDocError(`${this.id}: ${path ? `${path} ` : ''}${message}`)
  }

  namedDef(name: string, def: unknown): void {
    const path = `defs/${name}`
    if (!DEF_NAME.test(name)) this.fail(path, 'is not a valid definition name')
    const type = this.typeOf(def, path)
    if (PRIMARY_TYPES.has(type) && name !== 'main') {
      this.fail(path, `is a ${type}, which may only be defined as "main"`)
    }
    if (NOT_NAMEABLE.has(type)) this.fail(path, `is a ${type}, which can't be a named definition`)
    const obj = def as Obj
    switch (type) {
      case 'record':
        this.record(obj, path)
        break
      case 'query':
      case 'procedure':
        this.xrpcMethod(obj, path, type)
        break
      case 'subscription':
        this.subscription(obj, path)
        break
      case 'permission-set':
        this.permissionSet(obj, path)
        break
      case 'token':
        this.optionalString(obj, 'description', path)
        break
      default:
        this.field(obj, path)
        break
    }
  }

  private typeOf(def: unknown, path: string): string {
    if (!isObject(def)) this.fail(path, 'must be an object')
    if (typeof def.type !== 'string') this.fail(`${path}/type`, 'must be a string')
    return def.type
  }

  /** Any schema that may describe a value: concrete, container or meta types. */
  private field(def: unknown, path: string): void {
    const type = this.typeOf(def, path)
    const obj = def as Obj
    this.optionalString(obj, 'description', path)
    switch (type) {
      case 'boolean':
        this.optionalBoolean(obj, 'default', path)
        this.optionalBoolean(obj, 'const', path)
        break
      case 'integer':
        this.integer(obj, path)
        break
      case 'string':
        this.string(obj, path)
        break
      case 'bytes':
        this.lengths(obj, path, 'minLength', 'maxLength')
        break
      case 'cid-link':
      case 'unknown':
        break
      case 'blob':
        this.blob(obj, path)
        break
      case 'array':
        if (obj.items === undefined) this.fail(`${path}/items`, 'is required')
        this.field(obj.items, `${path}/items`)
        this.lengths(obj, path, 'minLength', 'maxLength')
        break
      case 'object':
        this.object(obj, path)
        break
      case 'ref':
        if (typeof obj.ref !== 'string') this.fail(`${path}/ref`, 'must be a string')
        this.refString(obj.ref, `${path}/ref`)
        break
      case 'union':
        this.union(obj, path)
        break
      default:
        this.fail(`${path}/type`, `"${type}" is not a field type`)
        break
    }
  }

  private integer(def: Obj, path: string): void {
    this.optionalInteger(def, 'minimum', path)
    this.optionalInteger(def, 'maximum', path)
    this.optionalInteger(def, 'default', path)
    this.optionalInteger(def, 'const', path)
    if (def.enum !== undefined) {
      if (!Array.isArray(def.enum) || !def.enum.every((v) => Number.isSafeInteger(v))) {
        this.fail(`${path}/enum`, 'must be an array of integers')
      }
    }
    if (
      typeof def.minimum === 'number' &&
      typeof def.maximum === 'number' &&
      def.minimum > def.maximum
    ) {
      this.fail(path, 'has minimum greater than maximum')
    }
  }

  private string(def: Obj, path: string): void {
    if (def.format !== undefined) {
      if (typeof def.format !== 'string' || !FORMATS.has(def.format)) {
        this.fail(`${path}/format`, `"${String(def.format)}" is not a known string format`)
      }
    }
    this.lengths(def, path, 'minLength', 'maxLength')
    this.lengths(def, path, 'minGraphemes', 'maxGraphemes')
    this.optionalStringArray(def, 'knownValues', path)
    this.optionalStringArray(def, 'enum', path)
    this.optionalString(def, 'default', path)
    this.optionalString(def, 'const', path)
    if (def.const !== undefined && def.default !== undefined) {
      this.fail(path, 'may not have both const and default')
    }
  }

  private blob(def: Obj, path: string): void {
    this.optionalStringArray(def, 'accept', path)
    for (const mime of (def.accept as string[] | undefined) ?? []) {
      if (!MIME_PATTERN.test(mime)) {
        this.fail(`${path}/accept`, `"${mime}" is not a MIME type or a type/* pattern`)
      }
    }
    this.optionalLength(def, 'maxSize', path)
  }

  private object(def: Obj, path: string): void {
    const props = def.properties
    if (!isObject(props)) this.fail(`${path}/properties`, 'must be an object')
    for (const [key, prop] of Object.entries(props)) {
      this.field(prop, `${path}/properties/${key}`)
    }
    this.propertyList(def, 'required', props, path)
    this.propertyList(def, 'nullable', props, path)
  }

  private union(def: Obj, path: string): void {
    const refs = def.refs
    if (!Array.isArray(refs)) this.fail(`${path}/refs`, 'must be an array')
    refs.forEach((ref, i) => {
      if (typeof ref !== 'string') this.fail(`${path}/refs/${i}`, 'must be a string')
      this.refString(ref, `${path}/refs/${i}`)
    })
    this.optionalBoolean(def, 'closed', path)
    if (def.closed === true && refs.length === 0) {
      this.fail(path, 'is a closed union with no refs')
    }
  }

  private refString(ref: string, path: string): void {
    const hash = ref.indexOf('#')
    const nsid = hash === -1 ? ref : ref.slice(0, hash)
    const name = hash === -1 ? undefined : ref.slice(hash + 1)
    if (nsid !== '' && !isValidNsid(nsid)) this.fail(path, `"${ref}" is not a valid reference`)
    if (name !== undefined && !DEF_NAME.test(name)) {
      this.fail(path, `"${ref}" is not a valid reference`)
    }
    if (nsid === '' && name === undefined) this.fail(path, 'must not be empty')
  }

  private record(def: Obj, path: string): void {
    this.optionalString(def, 'description', path)
    const key = def.key
    if (typeof key !== 'string') this.fail(`${path}/key`, 'must be a string')
    const valid = key.startsWith('literal:')
      ? isValidRecordKey(key.slice('literal:'.length))
      : RECORD_KEY_TYPES.has(key)
    if (!valid) this.fail(`${path}/key`, `"${key}" is not a record-key type`)
    const record = def.record
    if (!isObject(record) || record.type !== 'object') {
      this.fail(`${path}/record`, 'must be a schema of type "object"')
    }
    this.object(record, `${path}/record`)
  }

  private xrpcMethod(def: Obj, path: string, type: 'query' | 'procedure'): void {
    this.optionalString(def, 'description', path)
    this.parameters(def, path)
    if (type === 'query' && def.input !== undefined) {
      this.fail(`${path}/input`, 'is not allowed on a query')
    }
    if (def.input !== undefined) this.body(def.input, `${path}/input`)
    if (def.output !== undefined) this.body(def.output, `${path}/output`)
    this.errors(def, path)
  }

  private subscription(def: Obj, path: string): void {
    this.optionalString(def, 'description', path)
    this.parameters(def, path)
    const message = def.message
    if (!isObject(message)) this.fail(`${path}/message`, 'must be an object')
    this.optionalString(message, 'description', `${path}/message`)
    if (!isObject(message.schema) || message.schema.type !== 'union') {
      this.fail(`${path}/message/schema`, 'must be a union')
    }
    this.union(message.schema, `${path}/message/schema`)
    this.errors(def, path)
  }

  private parameters(def: Obj, path: string): void {
    const params = def.parameters
    if (params === undefined) return
    const p = `${path}/parameters`
    if (!isObject(params) || params.type !== 'params') this.fail(p, 'must be of type "params"')
    this.optionalString(params, 'description', p)
    const props = params.properties
    if (!isObject(props)) this.fail(`${p}/properties`, 'must be an object')
    for (const [key, prop] of Object.entries(props)) {
      const propPath = `${p}/properties/${key}`
      const type = this.typeOf(prop, propPath)
      const items = (prop as Obj).items
      const itemType = type === 'array' && isObject(items) ? items.type : undefined
      if (!PARAM_TYPES.has(type) && !(typeof itemType === 'string' && PARAM_TYPES.has(itemType))) {
        this.fail(propPath, 'must be a boolean, integer, string, or an array of those')
      }
      this.field(prop, propPath)
    }
    this.propertyList(params, 'required', props, p)
  }

  private body(body: unknown, path: string): void {
    if (!isObject(body)) this.fail(path, 'must be an object')
    this.optionalString(body, 'description', path)
    if (typeof body.encoding !== 'string' || body.encoding === '') {
      this.fail(`${path}/encoding`, 'must be a non-empty string')
    }
    if (body.schema === undefined) return
    const type = this.typeOf(body.schema, `${path}/schema`)
    if (!BODY_SCHEMA_TYPES.has(type)) this.fail(`${path}/schema`, 'must be an object, ref or union')
    this.field(body.schema, `${path}/schema`)
  }

  private errors(def: Obj, path: string): void {
    if (def.errors === undefined) return
    if (!Array.isArray(def.errors)) this.fail(`${path}/errors`, 'must be an array')
    def.errors.forEach((err, i) => {
      const p = `${path}/errors/${i}`
      if (!isObject(err)) this.fail(p, 'must be an object')
      if (typeof err.name !== 'string' || !/^\S+$/.test(err.name)) {
        this.fail(`${p}/name`, 'must be a non-empty string without whitespace')
      }
      this.optionalString(err, 'description', p)
    })
  }

  private permissionSet(def: Obj, path: string): void {
    this.optionalString(def, 'description', path)
    this.optionalString(def, 'title', path)
    this.optionalString(def, 'detail', path)
    this.langMap(def, 'title:lang', path)
    this.langMap(def, 'detail:lang', path)
    if (!Array.isArray(def.permissions)) this.fail(`${path}/permissions`, 'must be an array')
    def.permissions.forEach((perm, i) => {
      const p = `${path}/permissions/${i}`
      if (!isObject(perm) || perm.type !== 'permission') {
        this.fail(p, 'must be of type "permission"')
      }
      if (typeof perm.resource !== 'string' || perm.resource === '') {
        this.fail(`${p}/resource`, 'must be a non-empty string')
      }
      // Resource-specific fields are the permission layer's business, but they must at least
      // be primitives or arrays of primitives.
      for (const [key, value] of Object.entries(perm)) {
        const ok = Array.isArray(value) ? value.every(isPrimitive) : isPrimitive(value)
        if (!ok) this.fail(`${p}/${key}`, 'must be a primitive or an array of primitives')
      }
    })
  }

  private langMap(def: Obj, key: string, path: string): void {
    const map = def[key]
    if (map === undefined) return
    if (!isObject(map)) this.fail(`${path}/${key}`, 'must be an object')
    for (const [lang, text] of Object.entries(map)) {
      if (!isValidLanguage(lang)) this.fail(`${path}/${key}`, `"${lang}" is not a language tag`)
      if (typeof text !== 'string') this.fail(`${path}/${key}/${lang}`, 'must be a string')
    }
  }

  private propertyList(def: Obj, key: string, props: Obj, path: string): void {
    this.optionalStringArray(def, key, path)
    for (const name of (def[key] as string[] | undefined) ?? []) {
      if (!Object.hasOwn(props, name)) {
        this.fail(`${path}/${key}`, `names "${name}", which is not in properties`)
      }
    }
  }

  private lengths(def: Obj, path: string, minKey: string, maxKey: string): void {
    this.optionalLength(def, minKey, path)
    this.optionalLength(def, maxKey, path)
    const min = def[minKey]
    const max = def[maxKey]
    if (typeof min === 'number' && typeof max === 'number' && min > max) {
      this.fail(path, `has ${minKey} greater than ${maxKey}`)
    }
  }

  private optionalLength(def: Obj, key: string, path: string): void {
    const value = def[key]
    if (value !== undefined && !(Number.isSafeInteger(value) && (value as number) >= 0)) {
      this.fail(`${path}/${key}`, 'must be a non-negative integer')
    }
  }

  optionalInteger(def: Obj, key: string, path: string): void {
    const value = def[key]
    if (value !== undefined && !Number.isSafeInteger(value)) {
      this.fail(join(path, key), 'must be an integer')
    }
  }

  optionalString(def: Obj, key: string, path: string): void {
    const value = def[key]
    if (value !== undefined && typeof value !== 'string') {
      this.fail(join(path, key), 'must be a string')
    }
  }

  private optionalBoolean(def: Obj, key: string, path: string): void {
    const value = def[key]
    if (value !== undefined && typeof value !== 'boolean') {
      this.fail(join(path, key), 'must be a boolean')
    }
  }

  private optionalStringArray(def: Obj, key: string, path: string): void {
    const value = def[key]
    if (value === undefined) return
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
      this.fail(join(path, key), 'must be an array of strings')
    }
  }
}

function join(path: string, key: string): string {
  return path ? `${path}/${key}` : key
}

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isPrimitive(value: unknown): boolean {
  return typeof value === 'string' || typeof value === 'boolean' || Number.isSafeInteger(value)
}
