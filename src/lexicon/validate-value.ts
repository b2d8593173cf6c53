/**
 * Validates a data-model value (CIDs as `CID`, bytes as `Uint8Array`, blobs as
 * `{$type:'blob', ref: CID, mimeType, size}`) against a lexicon schema.
 *
 * The walk is compile-free and recursive. On the happy path it allocates nothing: the
 * path is a push/pop stack turned into a string only when an error is thrown, and
 * objects are copied only when a `default` has to be filled in (copy-on-write), so the
 * input is never mutated and is returned as-is when nothing changed.
 *
 * @NOTE `unknown` fields are only checked at their top level (an object that is not a
 * blob, link or bytes). That nested data obeys the data model (no floats, well-formed
 * nested blobs) is the data layer's rule (`ensureDataModelValue`), applied to whole
 * records before they get here.
 */
import { CID } from 'multiformats/cid'
import { isPlainObject } from '../data/object.ts'
import {
  isValidAtIdentifier,
  isValidAtUri,
  isValidCidString,
  isValidDatetime,
  isValidDid,
  isValidHandle,
  isValidLanguage,
  isValidNsid,
  isValidRecordKey,
  isValidTid,
  isValidUri,
} from '../syntax/index.ts'
import { LexiconDefNotFoundError, LexiconValidationError } from './errors.ts'
import { graphemeLength, utf8Length } from './string-length.ts'
import type {
  LexArray,
  LexBlob,
  LexBytes,
  LexFieldType,
  LexInteger,
  LexObject,
  LexRefUnion,
  LexString,
  LexStringFormat,
  LexUserType,
} from './types.ts'

type Obj = Record<string, unknown>

/** Looks up a definition by absolute reference (`nsid` for main, `nsid#name` otherwise). */
export type DefResolver = (ref: string) => LexUserType | undefined

/** Validates values against schemas; create one per top-level validation. */
export class ValueValidator {
  private readonly resolve: DefResolver
  private readonly root: string
  private readonly path: (string | number)[] = []

  /** `root` names the value in error messages: `Record`, `Input`, `Params`, … */
  constructor(resolve: DefResolver, root: string) {
    this.resolve = resolve
    this.root = root
  }

  /** Throws LexiconValidationError with the current path followed by `message`. */
  fail(message: string): never {
    let where = this.root
    for (const part of this.path) where += `/${part}`
    throw new LexiconValidationError(`${where} ${message}`)
  }

  /** Enters a child (property or index) for error messages; pair with `leave`. */
  enter(part: string | number): void {
    this.path.push(part)
  }

  leave(): void {
    this.path.pop()
  }

  /** Returns the value, or a copy with defaults filled in. */
  validate(def: LexFieldType | LexUserType, value: unknown): unknown {
    switch (def.type) {
      case 'boolean':
        if (typeof value !== 'boolean') this.fail('must be a boolean')
        if (def.const !== undefined && value !== def.const) this.fail(`must be ${def.const}`)
        return value
      case 'integer':
        return this.integer(def, value)
      case 'string':
        if (typeof value !== 'string') this.fail('must be a string')
        this.string(def, value)
        return value
      case 'bytes':
        return this.bytes(def, value)
      case 'cid-link':
        if (CID.asCID(value) === null) this.fail('must be a CID link')
        return value
      case 'blob':
        return this.blob(def, value)
      case 'array':
        return this.array(def, value)
      case 'object':
        return this.object(def, value)
      case 'ref':
        return this.validate(this.target(def.ref), value)
      case 'union':
        return this.union(def, value)
      case 'unknown':
        return this.unknown(value)
      case 'record':
        return this.object(def.record, value)
      default:
        throw new LexiconDefNotFoundError(`a ${def.type} definition can't describe a value`)
    }
  }

  /** A variant of a union, whose `$type` was already matched. */
  validateVariant(ref: string, value: unknown): unknown {
    return this.validate(this.target(ref), value)
  }

  private target(ref: string): LexUserType {
    const def = this.resolve(ref)
    if (def === undefined) throw new LexiconDefNotFoundError(`lexicon definition ${ref} not found`)
    return def
  }

  private integer(def: LexInteger, value: unknown): number {
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) this.fail('must be an integer')
    if (def.const !== undefined && value !== def.const) this.fail(`must be ${def.const}`)
    if (def.enum !== undefined && !def.enum.includes(value)) {
      this.fail(`must be one of (${def.enum.join('|')})`)
    }
    if (def.minimum !== undefined && value < def.minimum) {
      this.fail(`can not be less than ${def.minimum}`)
    }
    if (def.maximum !== undefined && value > def.maximum) {
      this.fail(`can not be greater than ${def.maximum}`)
    }
    return value
  }

  /** Checks constraints and format of a value already known to be a string. */
  string(def: LexString, value: string): void {
    if (def.const !== undefined && value !== def.const) this.fail(`must be "${def.const}"`)
    if (def.enum !== undefined && !def.enum.includes(value)) {
      this.fail(`must be one of (${def.enum.join('|')})`)
    }
    // A UTF-16 code unit is 1 to 3 UTF-8 bytes, and a grapheme is at least one code unit,
    // so most strings are settled by their .length alone.
    const { minLength, maxLength, minGraphemes, maxGraphemes } = def
    const units = value.length
    if (
      (maxLength !== undefined && units * 3 > maxLength) ||
      (minLength !== undefined && units < minLength)
    ) {
      const bytes = utf8Length(value)
      if (maxLength !== undefined && bytes > maxLength) {
        this.fail(`must not be longer than ${maxLength} bytes (UTF-8)`)
      }
      if (minLength !== undefined && bytes < minLength) {
        this.fail(`must not be shorter than ${minLength} bytes (UTF-8)`)
      }
    }
    if (
      (maxGraphemes !== undefined && units > maxGraphemes) ||
      (minGraphemes !== undefined && minGraphemes > 0)
    ) {
      if (minGraphemes !== undefined && units < minGraphemes) {
        this.fail(`must not be shorter than ${minGraphemes} graphemes`)
      }
      const graphemes = graphemeLength(value, maxGraphemes)
      if (maxGraphemes !== undefined && graphemes > maxGraphemes) {
        this.fail(`must not be longer than ${maxGraphemes} graphemes`)
      }
      if (minGraphemes !== undefined && graphemes < minGraphemes) {
        this.fail(`must not be shorter than ${minGraphemes} graphemes`)
      }
    }
    if (def.format !== undefined && !isValidFormat(def.format, value)) {
      this.fail(`must be a valid ${FORMAT_NAMES[def.format]}`)
    }
  }

  private bytes(def: LexBytes, value: unknown): Uint8Array {
    if (!(value instanceof Uint8Array)) this.fail('must be a byte array')
    if (def.maxLength !== undefined && value.length > def.maxLength) {
      this.fail(`must not be larger than ${def.maxLength} bytes`)
    }
    if (def.minLength !== undefined && value.length < def.minLength) {
      this.fail(`must not be smaller than ${def.minLength} bytes`)
    }
    return value
  }

  private blob(def: LexBlob, value: unknown): Obj {
    if (!isPlainObject(value)) this.fail('must be a blob')
    let mimeType: unknown
    let size: number | undefined
    if (value.$type === 'blob') {
      if (CID.asCID(value.ref) === null) this.fail('must be a blob whose ref is a CID link')
      mimeType = value.mimeType
      if (typeof value.size !== 'number' || !Number.isSafeInteger(value.size) || value.size < 0) {
        this.fail('must be a blob whose size is a non-negative integer')
      }
      size = value.size
    } else if (value.$type === undefined && typeof value.cid === 'string') {
      // Legacy `{cid, mimeType}` blobs must still be readable; they carry no size.
      if (!isValidCidString(value.cid)) this.fail('must be a blob whose cid is a valid CID')
      mimeType = value.mimeType
    } else {
      this.fail('must be a blob')
    }
    if (typeof mimeType !== 'string' || mimeType === '') {
      this.fail('must be a blob with a non-empty mimeType')
    }
    if (def.accept !== undefined && !acceptsMimeType(def.accept, mimeType)) {
      this.fail(`has a MIME type (${mimeType}) not accepted here: ${def.accept.join(', ')}`)
    }
    if (def.maxSize !== undefined && size !== undefined && size > def.maxSize) {
      this.fail(`is too big (${size} bytes; the maximum is ${def.maxSize})`)
    }
    return value
  }

  private array(def: LexArray, value: unknown): unknown[] {
    if (!Array.isArray(value)) this.fail('must be an array')
    if (def.maxLength !== undefined && value.length > def.maxLength) {
      this.fail(`must not have more than ${def.maxLength} elements`)
    }
    if (def.minLength !== undefined && value.length < def.minLength) {
      this.fail(`must not have fewer than ${def.minLength} elements`)
    }
    let out: unknown[] | undefined
    for (let i = 0; i < value.length; i++) {
      const item = value[i]
      this.path.push(i)
      const result = this.validate(def.items, item)
      this.path.pop()
      if (result !== item) {
        out ??= value.slice()
        out[i] = result
      }
    }
    return out ?? value
  }

  /** Returns the object, or a shallow copy with defaults (or changed children) set. */
  object(def: LexObject, value: unknown): Obj {
    if (!isPlainObject(value)) this.fail('must be an object')
    const props = def.properties
    let out: Obj | undefined
    for (const key in props) {
      const prop = props[key]!
      const item = value[key]
      if (item === undefined) {
        if ('default' in prop && prop.default !== undefined) {
          out ??= { ...value }
          out[key] = prop.default
        } else if (def.required?.includes(key)) {
          this.fail(`must have the property "${key}"`)
        }
        continue
      }
      if (item === null && def.nullable?.includes(key)) continue
      this.path.push(key)
      const result = this.validate(prop, item)
      this.path.pop()
      if (result !== item) {
        out ??= { ...value }
        out[key] = result
      }
    }
    return out ?? value
  }

  private union(def: LexRefUnion, value: unknown): unknown {
    if (!isPlainObject(value)) this.fail('must be an object')
    const type = value.$type
    if (typeof type !== 'string') this.fail('must be an object which includes the "$type" property')
    const ref = matchUnionRef(def.refs, type)
    if (ref === undefined) {
      if (def.closed) this.fail(`$type must be one of ${def.refs.join(', ')}`)
      // Open unions accept variants this schema doesn't know yet.
      return value
    }
    return this.validateVariant(ref, value)
  }

  private unknown(value: unknown): Obj {
    if (!isPlainObject(value)) this.fail('must be an object')
    if (value.$type === 'blob') this.fail('must be an object, not a blob')
    // Only reachable with JSON-form input, which should have been converted first.
    if (Object.hasOwn(value, '$link') || Object.hasOwn(value, '$bytes')) {
      this.fail('must be an object, not a link or bytes')
    }
    return value
  }
}

/**
 * The ref a `$type` selects among a union's (absolute) refs, or undefined. Like the
 * reference implementation, `nsid#main` is matched to `nsid` leniently.
 */
export function matchUnionRef(refs: string[], type: string): string | undefined {
  if (refs.includes(type)) return type
  if (type.endsWith('#main')) {
    const bare = type.slice(0, -'#main'.length)
    if (refs.includes(bare)) return bare
  }
  return undefined
}

// Patterns are full types, `type/*` or `*/*`; MIME types compare case-insensitively.
export function acceptsMimeType(accept: string[], mimeType: string): boolean {
  const mime = mimeType.toLowerCase()
  for (const pattern of accept) {
    if (pattern === '*/*') return true
    const p = pattern.toLowerCase()
    if (p.endsWith('/*') ? mime.startsWith(p.slice(0, -1)) : mime === p) return true
  }
  return false
}

const FORMAT_NAMES: Record<LexStringFormat, string> = {
  'at-identifier': 'handle or DID',
  'at-uri': 'AT-URI',
  cid: 'CID string',
  datetime: 'datetime (RFC 3339 with timezone)',
  did: 'DID',
  handle: 'handle',
  language: 'language tag (BCP 47)',
  nsid: 'NSID',
  'record-key': 'record key',
  tid: 'TID',
  uri: 'URI',
}

function isValidFormat(format: LexStringFormat, value: string): boolean {
  switch (format) {
    case 'at-identifier':
      return isValidAtIdentifier(value)
    case 'at-uri':
      return isValidAtUri(value)
    case 'cid':
      return isValidCidString(value)
    case 'datetime':
      return isValidDatetime(value)
    case 'did':
      return isValidDid(value)
    case 'handle':
      return isValidHandle(value)
    case 'language':
      return isValidLanguage(value)
    case 'nsid':
      return isValidNsid(value)
    case 'record-key':
      return isValidRecordKey(value)
    case 'tid':
      return isValidTid(value)
    case 'uri':
      return isValidUri(value)
  }
}
