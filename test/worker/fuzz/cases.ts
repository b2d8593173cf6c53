/**
 * The fuzz cases of one method, by class of bad input. Each case starts from a request that
 * would pass the method's Lexicon (required params and properties, valid identifiers naming
 * the fuzzing account) and breaks exactly one thing, so every case must be refused with a 4xx.
 */
import { base58btc } from 'multiformats/bases/base58'
import { encodeCbor } from '../../../src/data/cbor.ts'
import { jsonToIpld } from '../../../src/data/json.ts'
import type { LexFieldType, LexObject, LexUserType } from '../../../src/lexicon/index.ts'
import type { MethodInfo } from './methods.ts'
import { resolveDef } from './methods.ts'
import { createPrng, type Prng } from './prng.ts'
import {
  formatOf,
  type Identity,
  malformedIdentifiers,
  SAMPLE_TID,
  unknownIdentifier,
  validParams,
  validValue,
  WRONG_PARAM_VALUES,
  wrongTypeValues,
} from './schema-values.ts'

export const FUZZ_CLASSES = [
  'wrong-verb',
  'wrong-type',
  'missing-required',
  'huge',
  'invalid-identifier',
  'unknown-identifier',
  'deep-nesting',
  'oversized-body',
  'mislabelled-body',
  'garbage-body',
  'huge-url',
] as const

export type FuzzClass = (typeof FUZZ_CLASSES)[number]

export interface FuzzRequest {
  verb: string
  /** Query parameters in order (repeats allowed). */
  query: Array<[string, string]>
  headers: Record<string, string>
  body?: string | Uint8Array
  /** Replaces `/xrpc/<nsid>` (a path longer than any method name). */
  path?: string
}

export interface FuzzCase {
  nsid: string
  kind: FuzzClass
  /** What was broken, e.g. `record.createdAt=integer`: with the seed, enough to find it again. */
  label: string
  request: FuzzRequest
}

const KB = 1024
const MB = 1024 * KB
const JSON_TYPE = { 'content-type': 'application/json' }

/** The request that passes the method's Lexicon, which the cases break (and auth tests send). */
export function baseRequest(method: MethodInfo, who: Identity): FuzzRequest {
  return new CaseGenerator(method, who, createPrng(0)).base()
}

/** `perClass` cases of each class that applies to the method, picked by `prng`. */
export function generateCases(
  method: MethodInfo,
  who: Identity,
  prng: Prng,
  perClass: number,
): FuzzCase[] {
  const gen = new CaseGenerator(method, who, prng)
  const out: FuzzCase[] = []
  for (const kind of FUZZ_CLASSES) {
    const candidates = gen.candidates(kind)
    for (const [label, request] of prng.sample(candidates, perClass)) {
      out.push({ nsid: method.nsid, kind, label, request })
    }
  }
  return out
}

type Candidate = [label: string, request: FuzzRequest]
type Path = Array<string | number>

/** A place in the JSON body that a schema describes. */
interface Slot {
  path: Path
  schema: LexFieldType | LexUserType
  nullable: boolean
  required: boolean
  /** The base body has a value there. */
  present: boolean
}

const POST_COLLECTION = 'app.bsky.feed.post'

function samplePost(): Record<string, unknown> {
  return { $type: POST_COLLECTION, text: 'fuzz', createdAt: '2024-01-01T00:00:00.000Z' }
}

/** Where the generic base body would not pass the handler's own first checks. */
function baseOverrides(nsid: string, who: Identity): Record<string, unknown> {
  switch (nsid) {
    case 'com.atproto.repo.createRecord':
      return { collection: POST_COLLECTION, record: samplePost() }
    case 'com.atproto.repo.putRecord':
      return { collection: POST_COLLECTION, rkey: SAMPLE_TID, record: samplePost() }
    case 'com.atproto.repo.deleteRecord':
      return { collection: POST_COLLECTION, rkey: SAMPLE_TID }
    case 'com.atproto.repo.applyWrites':
      return {
        writes: [
          {
            $type: 'com.atproto.repo.applyWrites#create',
            collection: POST_COLLECTION,
            value: samplePost(),
          },
        ],
      }
    case 'com.atproto.server.createAccount':
      return { handle: `fuzz${who.handle}`, email: `fuzz@example.com`, password: 'fuzz password' }
    case 'com.atproto.server.createSession':
      return { identifier: who.handle, password: 'not the password' }
    case 'com.atproto.server.deleteAccount':
      return { did: who.did, password: 'not the password', token: 'not-a-token' }
    default:
      return {}
  }
}

/**
 * Properties that hold identifiers the Lexicon types only as strings: malformed values of them
 * get past the schema to the handler.
 */
const IMPLICIT_IDENTIFIERS: Record<string, Record<string, string[]>> = {
  'com.atproto.server.createAccount': {
    recoveryKey: [
      'not a key',
      'did:key:',
      'did:key:z',
      'did:key:zzzzzzzz',
      'did:key:z0OIl',
      'did:plc:ewvi7nxzyoun6zhxrhs64oiz',
      'z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK',
      'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK',
      // The multicodec of a secp256k1 / P-256 key, then bytes that are no point of the curve.
      `did:key:${base58btc.encode(new Uint8Array([0xe7, 0x01, 0x02, ...new Array(32).fill(0xff)]))}`,
      `did:key:${base58btc.encode(new Uint8Array([0x80, 0x24, 0x03, ...new Array(32).fill(0xff)]))}`,
      `did:key:${base58btc.encode(new Uint8Array([0xe7, 0x01, 0x02, 0x01]))}`,
    ],
  },
}

class CaseGenerator {
  private readonly baseQuery: Array<[string, string]>
  private readonly baseBody: Record<string, unknown> | undefined
  private readonly slots: Slot[]
  private readonly method: MethodInfo
  private readonly who: Identity
  private readonly prng: Prng

  constructor(method: MethodInfo, who: Identity, prng: Prng) {
    this.method = method
    this.who = who
    this.prng = prng
    this.baseQuery = Object.entries(validParams(method.params, who)).flatMap(([key, values]) =>
      values.map((value): [string, string] => [key, value]),
    )
    if (method.input) {
      this.baseBody = {
        ...(validValue(method.input, resolveDef, who) as Record<string, unknown>),
        ...baseOverrides(method.nsid, who),
      }
      this.slots = slotsOf(method.input, this.baseBody, [], 0)
    } else {
      this.baseBody = undefined
      this.slots = []
    }
  }

  private get jsonInput(): boolean {
    return this.method.encoding === 'application/json'
  }

  /** Procedures whose body we may break: JSON input, or none at all (a body is then an error). */
  private get takesBodyCases(): boolean {
    return this.method.type === 'procedure' && (this.jsonInput || this.method.encoding === null)
  }

  base(): FuzzRequest {
    return this.request()
  }

  private request(overrides: Partial<FuzzRequest> = {}): FuzzRequest {
    const body = this.baseBody === undefined ? undefined : JSON.stringify(this.baseBody)
    return {
      verb: this.method.type === 'query' ? 'GET' : 'POST',
      query: this.baseQuery,
      headers: body === undefined ? {} : { ...JSON_TYPE },
      ...(body === undefined ? {} : { body }),
      ...overrides,
    }
  }

  private withBody(body: unknown): FuzzRequest {
    return this.request({ headers: { ...JSON_TYPE }, body: JSON.stringify(body) })
  }

  private withRawBody(body: string | Uint8Array, contentType: string | null): FuzzRequest {
    if (contentType) return this.request({ headers: { 'content-type': contentType }, body })
    // fetch labels a string body text/plain: bytes go out with no Content-Type at all.
    const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body
    return this.request({ headers: {}, body: bytes })
  }

  private withParam(key: string, values: string[]): FuzzRequest {
    const query = this.baseQuery.filter(([k]) => k !== key)
    for (const value of values) query.push([key, value])
    return this.request({ query })
  }

  candidates(kind: FuzzClass): Candidate[] {
    switch (kind) {
      case 'wrong-verb':
        return this.wrongVerb()
      case 'wrong-type':
        return this.wrongType()
      case 'missing-required':
        return this.missingRequired()
      case 'huge':
        return this.huge()
      case 'invalid-identifier':
        return this.invalidIdentifiers()
      case 'unknown-identifier':
        return this.unknownIdentifiers()
      case 'deep-nesting':
        return this.jsonInput ? this.deepNesting() : []
      case 'oversized-body':
        return this.takesBodyCases ? this.oversizedBody() : []
      case 'mislabelled-body':
        return this.takesBodyCases ? this.mislabelledBody() : []
      case 'garbage-body':
        return this.garbageBody()
      case 'huge-url':
        return this.hugeUrl()
    }
  }

  private wrongVerb(): Candidate[] {
    const others =
      this.method.type === 'query'
        ? ['POST', 'PUT', 'DELETE', 'PATCH']
        : ['GET', 'PUT', 'DELETE', 'PATCH']
    return others.map((verb) => {
      const hasBody = verb !== 'GET'
      return [
        verb,
        this.request({
          verb,
          headers: hasBody ? { ...JSON_TYPE } : {},
          body: hasBody ? JSON.stringify(this.baseBody ?? {}) : undefined,
        }),
      ]
    })
  }

  private wrongType(): Candidate[] {
    const out: Candidate[] = []
    for (const [key, prop] of Object.entries(this.method.params?.properties ?? {})) {
      const item = prop.type === 'array' ? prop.items : prop
      if (item.type === 'integer' || item.type === 'boolean') {
        for (const value of WRONG_PARAM_VALUES[item.type]) {
          out.push([`param ${key}=${JSON.stringify(value)}`, this.withParam(key, [value])])
        }
      } else if (prop.type !== 'array') {
        out.push([
          `param ${key} repeated`,
          this.withParam(key, [String(validValue(prop, resolveDef, this.who)), 'x']),
        ])
      }
    }
    if (!this.jsonInput) return out
    for (const whole of [[], 'fuzz', 42, null, true]) {
      out.push([`body=${JSON.stringify(whole)}`, this.withBody(whole)])
    }
    for (const slot of this.slots) {
      for (const [kind, value] of wrongTypeValues(slot.schema, resolveDef, slot.nullable)) {
        out.push([
          `${pathLabel(slot.path)}=${kind}`,
          this.withBody(setAt(this.baseBody, slot.path, value)),
        ])
      }
    }
    return out
  }

  private missingRequired(): Candidate[] {
    const out: Candidate[] = []
    const required = this.method.params?.required ?? []
    for (const key of required) {
      out.push([
        `param ${key} missing`,
        this.request({ query: this.baseQuery.filter(([k]) => k !== key) }),
      ])
    }
    if (required.length > 1) out.push(['all params missing', this.request({ query: [] })])
    if (!this.jsonInput) return out
    out.push(['no body', this.request({ headers: { ...JSON_TYPE }, body: undefined })])
    out.push(['empty body', this.withRawBody('', 'application/json')])
    for (const slot of this.slots) {
      // A required property with a default may be left out: the default fills it.
      if (slot.required && slot.present && !hasDefault(slot.schema)) {
        out.push([
          `${pathLabel(slot.path)} missing`,
          this.withBody(deleteAt(this.baseBody, slot.path)),
        ])
      }
    }
    if (this.method.input?.required?.length) out.push(['body {}', this.withBody({})])
    return out
  }

  private huge(): Candidate[] {
    const out: Candidate[] = []
    const big = 'x'.repeat(100 * KB)
    for (const [key, prop] of Object.entries(this.method.params?.properties ?? {})) {
      const item = prop.type === 'array' ? prop.items : prop
      if (prop.type === 'array') {
        out.push([
          `param ${key} x10000`,
          this.withParam(
            key,
            Array.from({ length: 10_000 }, () => 'x'),
          ),
        ])
      } else if (item.type === 'integer') {
        out.push([`param ${key}=10^30`, this.withParam(key, ['1'.padEnd(31, '0')])])
      } else if (isBounded(item)) {
        out.push([`param ${key} 100KB`, this.withParam(key, [big])])
      }
    }
    for (const slot of this.slots) {
      const schema = deref(slot.schema)
      const label = pathLabel(slot.path)
      if (schema.type === 'string' && isBounded(schema)) {
        out.push([`${label} 100KB`, this.withBody(setAt(this.baseBody, slot.path, big))])
      } else if (schema.type === 'integer') {
        out.push([`${label}=1e300`, this.withBody(setAt(this.baseBody, slot.path, 1e300))])
        out.push([`${label}=2^60`, this.withBody(setAt(this.baseBody, slot.path, 2 ** 60))])
      } else if (schema.type === 'array') {
        // Items that are valid when the array has a bound to break, else of the wrong type.
        const bounded = schema.maxLength !== undefined && schema.maxLength < 10_000
        const item = bounded ? validValue(schema.items, resolveDef, this.who) : 12345
        const items = Array.from({ length: 10_000 }, () => item)
        out.push([`${label} x10000`, this.withBody(setAt(this.baseBody, slot.path, items))])
      }
    }
    return out
  }

  private invalidIdentifiers(): Candidate[] {
    const out: Candidate[] = []
    for (const [key, prop] of Object.entries(this.method.params?.properties ?? {})) {
      const item = prop.type === 'array' ? prop.items : prop
      const format = formatOf(item)
      if (!format) continue
      for (const value of malformedIdentifiers(format, this.who, this.prng, 4)) {
        out.push([`param ${key}=${JSON.stringify(value)}`, this.withParam(key, [value])])
      }
    }
    for (const [key, values] of Object.entries(IMPLICIT_IDENTIFIERS[this.method.nsid] ?? {})) {
      for (const value of this.prng.sample(values, 4)) {
        out.push([
          `${key}=${JSON.stringify(value)}`,
          this.withBody({ ...this.baseBody, [key]: value }),
        ])
      }
    }
    for (const slot of this.slots) {
      const format = formatOf(deref(slot.schema))
      if (!format) continue
      for (const value of malformedIdentifiers(format, this.who, this.prng, 4)) {
        out.push([
          `${pathLabel(slot.path)}=${JSON.stringify(value)}`,
          this.withBody(setAt(this.baseBody, slot.path, value)),
        ])
      }
    }
    return out
  }

  /** Well-formed identifiers that name nothing here: the handler itself has to say so. */
  private unknownIdentifiers(): Candidate[] {
    const out: Candidate[] = []
    for (const [key, prop] of Object.entries(this.method.params?.properties ?? {})) {
      const format = formatOf(prop.type === 'array' ? prop.items : prop)
      if (format)
        out.push([`param ${key} unknown`, this.withParam(key, [unknownIdentifier(format)])])
    }
    for (const slot of this.slots) {
      const format = formatOf(deref(slot.schema))
      if (!format) continue
      out.push([
        `${pathLabel(slot.path)} unknown`,
        this.withBody(setAt(this.baseBody, slot.path, unknownIdentifier(format))),
      ])
    }
    return out
  }

  private deepNesting(): Candidate[] {
    const arrays = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`
    const objects = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`
    const out: Candidate[] = [
      ['body arrays 10k deep', this.withRawBody(arrays(10_000), 'application/json')],
      ['body objects 10k deep', this.withRawBody(objects(10_000), 'application/json')],
      ['body arrays 100k deep', this.withRawBody(arrays(100_000), 'application/json')],
    ]
    const marker = '"__fuzz_deep__"'
    for (const slot of this.slots) {
      const text = JSON.stringify(setAt(this.baseBody, slot.path, '__fuzz_deep__'))
      const label = pathLabel(slot.path)
      out.push([
        `${label} arrays 10k deep`,
        this.withRawBody(text.replace(marker, arrays(10_000)), 'application/json'),
      ])
      out.push([
        `${label} objects 10k deep`,
        this.withRawBody(text.replace(marker, objects(10_000)), 'application/json'),
      ])
    }
    return out
  }

  private oversizedBody(): Candidate[] {
    const padded = (size: number) =>
      JSON.stringify({ ...(this.baseBody ?? {}), fuzzPadding: 'x'.repeat(size) })
    const out: Candidate[] = [
      ['5MB extra property', this.withRawBody(padded(5 * MB), 'application/json')],
      ['11MB extra property', this.withRawBody(padded(11 * MB), 'application/json')],
    ]
    const strings = this.slots.filter((slot) => deref(slot.schema).type === 'string')
    if (strings.length > 0) {
      const slot = this.prng.pick(strings)
      out.push([
        `${pathLabel(slot.path)} 5MB`,
        this.withBody(setAt(this.baseBody, slot.path, 'x'.repeat(5 * MB))),
      ])
    }
    return out
  }

  private mislabelledBody(): Candidate[] {
    const json = JSON.stringify(this.baseBody ?? {})
    const cbor = encodeCbor(jsonToIpld(this.baseBody ?? {}))
    return [
      ['JSON as text/plain', this.withRawBody(json, 'text/plain')],
      ['JSON without content-type', this.withRawBody(json, null)],
      ['JSON as application/cbor', this.withRawBody(json, 'application/cbor')],
      ['JSON as form-urlencoded', this.withRawBody(json, 'application/x-www-form-urlencoded')],
      ['JSON as multipart', this.withRawBody(json, 'multipart/form-data; boundary=x')],
      ['CBOR as application/json', this.withRawBody(cbor, 'application/json')],
      ['CBOR as application/cbor', this.withRawBody(cbor, 'application/cbor')],
      ['JSON as application/jsonx', this.withRawBody(json, 'application/jsonx')],
    ]
  }

  private garbageBody(): Candidate[] {
    if (this.method.type !== 'procedure') return []
    if (!this.takesBodyCases) {
      // Raw-body methods (uploadBlob) take any bytes; only no body at all is wrong.
      return [['empty raw body', this.withRawBody(new Uint8Array(0), 'application/octet-stream')]]
    }
    const json = JSON.stringify(this.baseBody ?? {})
    const out: Candidate[] = [
      [
        'random bytes as JSON',
        this.withRawBody(this.prng.bytes(64 + this.prng.int(512)), 'application/json'),
      ],
      ['garbage CBOR as JSON', this.withRawBody(garbageCbor(this.prng), 'application/json')],
      ['garbage CBOR as CBOR', this.withRawBody(garbageCbor(this.prng), 'application/cbor')],
      ['garbage CAR', this.withRawBody(garbageCar(this.prng), 'application/vnd.ipld.car')],
      ['garbage CAR as JSON', this.withRawBody(garbageCar(this.prng), 'application/json')],
      ['invalid UTF-8 JSON', this.withRawBody(invalidUtf8Json(json), 'application/json')],
      ['trailing garbage', this.withRawBody(`${json}}x`, 'application/json')],
      [
        'truncated JSON',
        this.withRawBody(json.slice(0, Math.max(1, json.length - 1)), 'application/json'),
      ],
      ['$link not a CID', this.withBody({ ...this.baseBody, fuzz: { $link: 'not a cid' } })],
      ['$bytes not base64', this.withBody({ ...this.baseBody, fuzz: { $bytes: '!!!' } })],
      [
        '__proto__ key',
        this.withRawBody(withFirstKey(json, '"__proto__":{"x":1}'), 'application/json'),
      ],
    ]
    for (const slot of this.slots) {
      if (deref(slot.schema).type !== 'unknown' || !slot.present) continue
      const withProto = JSON.stringify(setAt(this.baseBody, slot.path, '__fuzz_proto__'))
      const record = JSON.stringify(getAt(this.baseBody, slot.path))
      out.push([
        `${pathLabel(slot.path)}.__proto__ key`,
        this.withRawBody(
          withProto.replace('"__fuzz_proto__"', withFirstKey(record, '"__proto__":{"x":1}')),
          'application/json',
        ),
      ])
      // Records hold no floats (the data model has none): one in a record cannot be stored.
      for (const number of ['1.5', '1e400', '1.0e-7']) {
        const text = JSON.stringify(
          setAt(this.baseBody, [...slot.path, 'fuzzFloat'], '__fuzz_float__'),
        )
        out.push([
          `${pathLabel(slot.path)}.fuzzFloat=${number}`,
          this.withRawBody(text.replace('"__fuzz_float__"', number), 'application/json'),
        ])
      }
    }
    for (const slot of this.slots) {
      if (deref(slot.schema).type !== 'string') continue
      const text = JSON.stringify(setAt(this.baseBody, slot.path, '__fuzz_surrogate__'))
      out.push([
        `${pathLabel(slot.path)} lone surrogate`,
        this.withRawBody(text.replace('__fuzz_surrogate__', '\\ud800'), 'application/json'),
      ])
    }
    return out
  }

  private hugeUrl(): Candidate[] {
    const junk = 'x'.repeat(20 * KB)
    const out: Candidate[] = [['20KB unknown param', this.withParam('fuzz', [junk])]]
    for (const key of Object.keys(this.method.params?.properties ?? {})) {
      out.push([`param ${key} 20KB`, this.withParam(key, [junk])])
    }
    out.push([
      '20KB path',
      this.request({ path: `/xrpc/${this.method.nsid}${'.x'.repeat(10 * KB)}` }),
    ])
    return out
  }
}

function isBounded(schema: LexFieldType | LexUserType): boolean {
  if (schema.type !== 'string') return false
  return (
    schema.format !== undefined ||
    schema.maxLength !== undefined ||
    schema.maxGraphemes !== undefined ||
    schema.enum !== undefined ||
    schema.const !== undefined
  )
}

/** The JSON text of an object with one more property first (raw: keys JSON.stringify drops). */
function withFirstKey(json: string, property: string): string {
  return json === '{}' ? `{${property}}` : json.replace(/^\{/, `{${property},`)
}

function hasDefault(schema: LexFieldType | LexUserType): boolean {
  return 'default' in schema && schema.default !== undefined
}

function deref(schema: LexFieldType | LexUserType): LexFieldType | LexUserType {
  return schema.type === 'ref' ? (resolveDef(schema.ref) ?? schema) : schema
}

/** The object schema a value in that place follows (a ref, the union variant, a record). */
function objectSchemaOf(schema: LexFieldType | LexUserType, value: unknown): LexObject | null {
  const target = deref(schema)
  if (target.type === 'object') return target
  if (target.type === 'record') return target.record
  const type = (value as { $type?: unknown } | null)?.$type
  if ((target.type === 'union' || target.type === 'unknown') && typeof type === 'string') {
    return objectSchemaOf(resolveDef(type) ?? target, null)
  }
  return null
}

function slotsOf(schema: LexObject, value: unknown, path: Path, depth: number): Slot[] {
  const out: Slot[] = []
  const object = (value ?? {}) as Record<string, unknown>
  for (const [key, prop] of Object.entries(schema.properties)) {
    const here = [...path, key]
    const present = object[key] !== undefined
    out.push({
      path: here,
      schema: prop,
      nullable: schema.nullable?.includes(key) ?? false,
      required: schema.required?.includes(key) ?? false,
      present,
    })
    if (!present || depth >= 3) continue
    const target = deref(prop)
    const child = object[key]
    if (target.type === 'array' && Array.isArray(child) && child.length > 0) {
      const inner = objectSchemaOf(target.items, child[0])
      if (inner) out.push(...slotsOf(inner, child[0], [...here, 0], depth + 1))
    } else {
      const inner = objectSchemaOf(prop, child)
      if (inner) out.push(...slotsOf(inner, child, here, depth + 1))
    }
  }
  return out
}

function pathLabel(path: Path): string {
  return path.map(String).join('.')
}

function getAt(base: unknown, path: Path): unknown {
  let current = base
  for (const step of path) current = (current as Record<string | number, unknown>)[step]
  return current
}

function setAt(base: unknown, path: Path, value: unknown): unknown {
  if (path.length === 0) return value
  const [head, ...rest] = path as [string | number, ...Path]
  const copy: Record<string | number, unknown> | unknown[] = Array.isArray(base)
    ? [...base]
    : { ...(base as Record<string, unknown>) }
  ;(copy as Record<string | number, unknown>)[head] = setAt(
    (base as Record<string | number, unknown> | undefined)?.[head],
    rest,
    value,
  )
  return copy
}

function deleteAt(base: unknown, path: Path): unknown {
  const parent = path.slice(0, -1)
  const key = path[path.length - 1]!
  const copy = { ...(getAt(base, parent) as Record<string, unknown>) }
  delete copy[key as string]
  return setAt(base, parent, copy)
}

/** CBOR that decodes to nothing sensible: a truncated map, a bad tag, then random bytes. */
function garbageCbor(prng: Prng): Uint8Array {
  const valid = encodeCbor({ fuzz: [1, 2, { nested: 'x'.repeat(prng.int(64)) }] })
  const cut = valid.slice(0, 1 + prng.int(valid.length - 1))
  return new Uint8Array([...cut, 0xd8, 0x2a, ...prng.bytes(16)])
}

/** A CAR-looking header (varint length, a CBOR map) followed by junk blocks. */
function garbageCar(prng: Prng): Uint8Array {
  const header = encodeCbor({ version: 1, roots: [] })
  return new Uint8Array([header.length, ...header, 0xff, 0xff, 0xff, 0x0f, ...prng.bytes(128)])
}

function invalidUtf8Json(json: string): Uint8Array {
  const bytes = new TextEncoder().encode(json)
  const at = Math.max(1, bytes.length - 2)
  return new Uint8Array([...bytes.slice(0, at), 0xc3, 0x28, 0xff, ...bytes.slice(at)])
}
