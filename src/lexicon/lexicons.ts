/**
 * A registry of lexicon documents, and validation of records, XRPC parameters, bodies
 * and subscription messages against them.
 *
 * Values are validated in DATA-MODEL form: CIDs are `CID` objects, bytes are
 * `Uint8Array`, blobs are `{$type:'blob', ref: CID, mimeType, size}` (the legacy
 * `{cid, mimeType}` form is accepted too). That includes XRPC JSON bodies: the XRPC
 * layer converts a parsed JSON body with `jsonToIpld` (src/data/json.ts) first, so that
 * records inside bodies (createRecord, applyWrites) are validated and stored in the same
 * form as records from CBOR.
 *
 * Every `assertValid*` method throws LexiconValidationError on bad data and returns the
 * value, with `default`s filled in where the schema has them (the input is never
 * mutated). Every `safeValidate*` method returns `{success, value | error}` instead.
 * Both throw LexiconDefNotFoundError when the schema itself is missing or of the wrong
 * kind, since that is not the data's fault.
 */
import { isPlainObject } from '../data/object.ts'
import { isValidNsid, isValidRecordKey, isValidTid } from '../syntax/index.ts'
import { withAbsoluteRefs } from './absolute-refs.ts'
import {
  LexiconDefNotFoundError,
  LexiconDocError,
  LexiconValidationError,
  type ValidationResult,
} from './errors.ts'
import { parseLexiconDoc } from './parse-doc.ts'
import type {
  LexiconDoc,
  LexRecord,
  LexUserType,
  LexXrpcBody,
  LexXrpcProcedure,
  LexXrpcQuery,
  LexXrpcSubscription,
} from './types.ts'
import { coerceXrpcParams, type RawXrpcParams } from './validate-params.ts'
import { matchUnionRef, ValueValidator } from './validate-value.ts'

type Obj = Record<string, unknown>
type XrpcMethod = LexXrpcQuery | LexXrpcProcedure | LexXrpcSubscription

export interface LexiconsOptions {
  /**
   * Check and prepare each document only when it is first used, instead of in the
   * constructor. For trusted, pre-checked bundles: it keeps a Worker's cold start from
   * paying for hundreds of schemas a request never touches. A malformed document then
   * throws LexiconDocError when first used.
   */
  lazy?: boolean
}

export class Lexicons {
  private readonly docs = new Map<string, LexiconDoc>()
  // Documents added lazily and not yet checked, by id.
  private readonly pending = new Map<string, unknown>()
  // Keyed by absolute ref: `nsid` for main definitions, `nsid#name` for the others.
  private readonly defs = new Map<string, LexUserType>()
  private readonly resolve = (ref: string): LexUserType | undefined => this.getDef(ref)

  /** Throws LexiconDocError if any document is malformed or two share an id. */
  constructor(docs?: Iterable<unknown>, options: LexiconsOptions = {}) {
    if (!docs) return
    for (const doc of docs) {
      if (options.lazy) this.addLazily(doc)
      else this.add(doc)
    }
  }

  /**
   * Checks and adds a document. The stored copy has absolute refs (see absolute-refs.ts)
   * and is what `get` returns.
   */
  add(json: unknown): LexiconDoc {
    const parsed = parseLexiconDoc(json)
    if (this.has(parsed.id)) throw new LexiconDocError(`${parsed.id} is already loaded`)
    return this.install(parsed)
  }

  has(nsid: string): boolean {
    return this.docs.has(nsid) || this.pending.has(nsid)
  }

  get(nsid: string): LexiconDoc | undefined {
    return this.docs.get(nsid) ?? this.loadPending(nsid)
  }

  /** A definition by `nsid` (its main), `nsid#name`, or `nsid#main`. */
  getDef(uri: string): LexUserType | undefined {
    const def = this.defs.get(uri)
    if (def !== undefined) return def
    if (this.pending.size > 0) {
      const hash = uri.indexOf('#')
      if (this.loadPending(hash === -1 ? uri : uri.slice(0, hash))) return this.getDef(uri)
    }
    return uri.endsWith('#main') ? this.defs.get(uri.slice(0, -'#main'.length)) : undefined
  }

  /** NSIDs of all loaded documents. */
  ids(): string[] {
    return [...this.docs.keys(), ...this.pending.keys()]
  }

  /** A record value whose `$type` must be `nsid`. */
  assertValidRecord<T = Obj>(nsid: string, value: unknown): T {
    const def = this.defOfType(nsid, 'record') as LexRecord
    const v = new ValueValidator(this.resolve, 'Record')
    if (isPlainObject(value) && value.$type !== nsid) {
      if (typeof value.$type !== 'string') v.fail('must have a $type string')
      v.fail(`$type must be ${nsid} (got ${value.$type})`)
    }
    return v.object(def.record, value) as T
  }

  safeValidateRecord<T = Obj>(nsid: string, value: unknown): ValidationResult<T> {
    return safely(() => this.assertValidRecord<T>(nsid, value))
  }

  /** Checks a record key against the record type's `key` (tid, nsid, literal:x, any). */
  assertValidRecordKey(nsid: string, rkey: string): void {
    const { key } = this.defOfType(nsid, 'record') as LexRecord
    if (!isValidRecordKey(rkey)) {
      throw new LexiconValidationError(`Record key "${rkey}" is not a valid record key`)
    }
    if (key === 'tid' && !isValidTid(rkey)) {
      throw new LexiconValidationError(`Record key "${rkey}" must be a TID for ${nsid}`)
    }
    if (key === 'nsid' && !isValidNsid(rkey)) {
      throw new LexiconValidationError(`Record key "${rkey}" must be an NSID for ${nsid}`)
    }
    if (key.startsWith('literal:') && rkey !== key.slice('literal:'.length)) {
      throw new LexiconValidationError(
        `Record key must be "${key.slice('literal:'.length)}" for ${nsid}`,
      )
    }
  }

  /**
   * Coerces query-string parameters to their schema types, applies defaults and
   * validates them. Undeclared parameters are dropped. Errors name the parameter
   * (`Params/limit can not be greater than 100`).
   */
  assertValidXrpcParams<T = Obj>(nsid: string, params: RawXrpcParams): T {
    const def = this.xrpcMethod(nsid)
    return coerceXrpcParams(new ValueValidator(this.resolve, 'Params'), def.parameters, params) as T
  }

  safeValidateXrpcParams<T = Obj>(nsid: string, params: RawXrpcParams): ValidationResult<T> {
    return safely(() => this.assertValidXrpcParams<T>(nsid, params))
  }

  /** A procedure's input body (data-model form); unchecked if the schema has none. */
  assertValidXrpcInput<T = unknown>(nsid: string, body: unknown): T {
    const def = this.xrpcMethod(nsid)
    if (def.type !== 'procedure') throw new LexiconDefNotFoundError(`${nsid} is not a procedure`)
    return this.validateBody(def.input, body, 'Input') as T
  }

  safeValidateXrpcInput<T = unknown>(nsid: string, body: unknown): ValidationResult<T> {
    return safely(() => this.assertValidXrpcInput<T>(nsid, body))
  }

  /** A query's or procedure's output body (data-model form). */
  assertValidXrpcOutput<T = unknown>(nsid: string, body: unknown): T {
    const def = this.xrpcMethod(nsid)
    if (def.type === 'subscription') {
      throw new LexiconDefNotFoundError(`${nsid} is a subscription, not a query or procedure`)
    }
    return this.validateBody(def.output, body, 'Output') as T
  }

  safeValidateXrpcOutput<T = unknown>(nsid: string, body: unknown): ValidationResult<T> {
    return safely(() => this.assertValidXrpcOutput<T>(nsid, body))
  }

  /**
   * A subscription message body. Event-stream bodies carry no `$type` (the frame header's
   * `t`, like `#commit`, names the variant), so pass that as `messageType`; without it
   * the body's own `$type` selects the variant.
   */
  assertValidXrpcMessage<T = unknown>(nsid: string, message: unknown, messageType?: string): T {
    const def = this.xrpcMethod(nsid)
    if (def.type !== 'subscription') {
      throw new LexiconDefNotFoundError(`${nsid} is not a subscription`)
    }
    const v = new ValueValidator(this.resolve, 'Message')
    const schema = def.message.schema
    if (messageType === undefined) return v.validate(schema, message) as T
    const type = messageType.startsWith('#') ? nsid + messageType : messageType
    const ref = matchUnionRef(schema.refs, type)
    if (ref === undefined) {
      if (schema.closed) v.fail(`type must be one of ${schema.refs.join(', ')}`)
      return message as T
    }
    return v.validateVariant(ref, message) as T
  }

  safeValidateXrpcMessage<T = unknown>(
    nsid: string,
    message: unknown,
    messageType?: string,
  ): ValidationResult<T> {
    return safely(() => this.assertValidXrpcMessage<T>(nsid, message, messageType))
  }

  /** Any value against any definition (`nsid` or `nsid#name`), e.g. a strongRef. */
  assertValidValue<T = unknown>(uri: string, value: unknown): T {
    const def = this.getDef(uri)
    if (def === undefined) throw new LexiconDefNotFoundError(`lexicon definition ${uri} not found`)
    return new ValueValidator(this.resolve, 'Value').validate(def, value) as T
  }

  safeValidateValue<T = unknown>(uri: string, value: unknown): ValidationResult<T> {
    return safely(() => this.assertValidValue<T>(uri, value))
  }

  private addLazily(json: unknown): void {
    const id = typeof json === 'object' && json !== null ? (json as Obj).id : undefined
    if (typeof id !== 'string') throw new LexiconDocError('Lexicon document id must be a string')
    if (this.has(id)) throw new LexiconDocError(`${id} is already loaded`)
    this.pending.set(id, json)
  }

  private loadPending(nsid: string): LexiconDoc | undefined {
    const json = this.pending.get(nsid)
    if (json === undefined) return undefined
    const parsed = parseLexiconDoc(json)
    if (parsed.id !== nsid) throw new LexiconDocError(`${nsid} changed its id to ${parsed.id}`)
    this.pending.delete(nsid)
    return this.install(parsed)
  }

  private install(parsed: LexiconDoc): LexiconDoc {
    const doc = withAbsoluteRefs(parsed)
    this.docs.set(doc.id, doc)
    for (const name in doc.defs) {
      this.defs.set(name === 'main' ? doc.id : `${doc.id}#${name}`, doc.defs[name]!)
    }
    return doc
  }

  private defOfType(nsid: string, type: LexUserType['type']): LexUserType {
    const def = this.getDef(nsid)
    if (def === undefined) throw new LexiconDefNotFoundError(`lexicon ${nsid} not found`)
    if (def.type !== type)
      throw new LexiconDefNotFoundError(`${nsid} is a ${def.type}, not a ${type}`)
    return def
  }

  private xrpcMethod(nsid: string): XrpcMethod {
    const def = this.getDef(nsid)
    if (def === undefined) throw new LexiconDefNotFoundError(`lexicon ${nsid} not found`)
    if (def.type !== 'query' && def.type !== 'procedure' && def.type !== 'subscription') {
      throw new LexiconDefNotFoundError(`${nsid} is a ${def.type}, not an XRPC method`)
    }
    return def
  }

  private validateBody(body: LexXrpcBody | undefined, value: unknown, root: string): unknown {
    if (body?.schema === undefined) return value
    return new ValueValidator(this.resolve, root).validate(body.schema, value)
  }
}

function safely<T>(run: () => T): ValidationResult<T> {
  try {
    return { success: true, value: run() }
  } catch (err) {
    if (err instanceof LexiconValidationError) return { success: false, error: err }
    throw err
  }
}
