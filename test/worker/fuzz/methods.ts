/**
 * What the fuzz test knows of each method we serve: its verb, params and input from the
 * Lexicon, and which credential its auth verifier takes (read off the registry).
 */
import {
  accessFull,
  accessPrivileged,
  accessStandard,
  adminAuth,
  optionalAccess,
  refreshAuth,
} from '../../../src/api/auth-verifiers.ts'
import { buildRegistry } from '../../../src/api/index.ts'
import {
  getDefaultLexicons,
  type LexObject,
  type LexXrpcParameters,
} from '../../../src/lexicon/index.ts'
import { publicAccess } from '../../../src/xrpc/method.ts'
import type { Resolve } from './schema-values.ts'

/** Which credential a valid call carries: the verifier the method declares. */
export type AuthKind = 'none' | 'standard' | 'privileged' | 'full' | 'refresh' | 'admin'

export interface MethodInfo {
  nsid: string
  type: 'query' | 'procedure'
  params: LexXrpcParameters | undefined
  /** The input encoding, or null for a procedure without input (and for queries). */
  encoding: string | null
  input: LexObject | undefined
  auth: AuthKind
}

const lexicons = getDefaultLexicons()

export const resolveDef: Resolve = (ref) => lexicons.getDef(ref)

/**
 * Our own methods have no Lexicon; their shapes are declared here (a GET with these params)
 * so that the generator can aim at them too.
 */
const OWN_METHODS: Record<string, LexXrpcParameters> = {
  'dev.edgepds.admin.getMailStatus': { type: 'params', properties: {} },
}

export function registeredMethods(): MethodInfo[] {
  return [...buildRegistry().values()].map((method) => {
    const def = lexicons.getDef(method.nsid)
    const own = OWN_METHODS[method.nsid]
    if (!def && own) {
      return {
        nsid: method.nsid,
        type: 'query',
        params: own,
        encoding: null,
        input: undefined,
        auth: authKind(method.auth),
      }
    }
    if (def?.type !== 'query' && def?.type !== 'procedure') {
      throw new Error(`${method.nsid}: no Lexicon and no shape in OWN_METHODS`)
    }
    const schema = def.type === 'procedure' ? def.input?.schema : undefined
    const input = schema?.type === 'ref' ? resolveDef(schema.ref) : schema
    return {
      nsid: method.nsid,
      type: def.type,
      params: def.parameters,
      encoding: def.type === 'procedure' ? (def.input?.encoding ?? null) : null,
      input: input?.type === 'object' ? input : undefined,
      auth: authKind(method.auth),
    }
  })
}

function authKind(verifier: unknown): AuthKind {
  // Optional sessions only widen what the account reads of itself: called as public here.
  if (verifier === publicAccess || verifier === optionalAccess) return 'none'
  if (verifier === accessStandard) return 'standard'
  if (verifier === accessPrivileged) return 'privileged'
  if (verifier === accessFull) return 'full'
  if (verifier === refreshAuth) return 'refresh'
  if (verifier === adminAuth) return 'admin'
  // uploadBlob's session-or-service-auth verifier is built per method; it takes any session.
  return 'standard'
}
