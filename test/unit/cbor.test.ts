import { describe, expect, it } from 'vitest'
import { DataModelError, decodeCbor, encodeCbor, encodeCborBlock } from '../../src/data/cbor.ts'

describe('cbor', () => {
  it('round-trips and orders keys canonically', async () => {
    const bytes = encodeCbor({ bb: 1, a: 2, c: 'x', skip: undefined })
    expect(decodeCbor(bytes)).toEqual({ a: 2, c: 'x', bb: 1 })
    const block = await encodeCborBlock({ hello: 'world' })
    expect(block.cid.toString().startsWith('bafyrei')).toBe(true)
  })
  it('rejects floats', () => {
    expect(() => encodeCbor({ a: 1.5 })).toThrow(DataModelError)
  })
})
