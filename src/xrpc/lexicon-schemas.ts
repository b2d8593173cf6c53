/**
 * XrpcSchemas backed by the Lexicons we ship (src/lexicon): maps Lexicon validation errors
 * to InvalidRequest so that bad input always gets a 400 naming the field.
 */
import { getDefaultLexicons, type Lexicons, LexiconValidationError } from '../lexicon/index.ts'
import { InvalidRequestError } from './errors.ts'
import type { XrpcMethodType, XrpcSchemas } from './schemas.ts'

export function createXrpcSchemas(lexicons: Lexicons): XrpcSchemas {
  const methodDef = (nsid: string) => {
    const def = lexicons.getDef(nsid)
    if (def?.type === 'query' || def?.type === 'procedure' || def?.type === 'subscription') {
      return def
    }
    return null
  }
  const asInvalidRequest = <T>(run: () => T): T => {
    try {
      return run()
    } catch (err) {
      if (err instanceof LexiconValidationError) throw new InvalidRequestError(err.message)
      throw err
    }
  }
  return {
    methodType(nsid): XrpcMethodType | null {
      return methodDef(nsid)?.type ?? null
    },
    inputEncoding(nsid) {
      const def = methodDef(nsid)
      return def?.type === 'procedure' ? (def.input?.encoding ?? null) : null
    },
    validateParams(nsid, raw) {
      if (!methodDef(nsid)) return raw
      return asInvalidRequest(() => lexicons.assertValidXrpcParams(nsid, raw))
    },
    validateInput(nsid, input) {
      if (!methodDef(nsid)) return input
      return asInvalidRequest(() => lexicons.assertValidXrpcInput(nsid, input))
    },
    validateOutput(nsid, output) {
      if (methodDef(nsid)) lexicons.assertValidXrpcOutput(nsid, output)
    },
  }
}

let defaultSchemas: XrpcSchemas | undefined

export function getXrpcSchemas(): XrpcSchemas {
  defaultSchemas ??= createXrpcSchemas(getDefaultLexicons())
  return defaultSchemas
}
