import { describe, expect, it } from 'vitest'
import { parseArchiveKey, segmentKey } from '../../src/account/archive.ts'
import {
  carSections,
  decodeSegmentHead,
  encodeSegment,
  sliceCar,
} from '../../src/account/archive-segment.ts'
import { encodeCborBlock } from '../../src/data/cbor.ts'
import { encodeCarBytesSync, readCar } from '../../src/repo/car.ts'

const DID = 'did:plc:segmentunittest0000000'

async function commitCar(n: number) {
  const commit = await encodeCborBlock({ commit: n })
  const record = await encodeCborBlock({ text: `record ${n}`.repeat(n + 1) })
  return { cid: commit.cid, car: encodeCarBytesSync(commit.cid, [commit, record]) }
}

describe('archive segment format', () => {
  it('gives back each commit slice byte for byte, and is a CAR rooted at its index', async () => {
    const cars = await Promise.all([0, 1, 2].map(commitCar))
    const revs = ['3kaaaaaaaaaa2', '3kaaaaaaaaab2', '3kaaaaaaaaac2']
    const { bytes, index } = await encodeSegment(
      DID,
      cars.map((c, i) => ({ rev: revs[i]!, cid: c.cid, sections: carSections(c.car) })),
    )
    const head = decodeSegmentHead(bytes)
    if (!('index' in head)) throw new Error('index not decoded')
    expect(head.index.did).toBe(DID)
    expect(head.index.commits.map((c) => c.rev)).toEqual(revs)
    for (const [i, commit] of index.commits.entries()) {
      const start = head.sectionsStart + commit.offset
      const slice = sliceCar(commit.cid, bytes.subarray(start, start + commit.length))
      expect(slice).toEqual(cars[i]!.car)
    }
    const whole = await readCar(bytes)
    expect(whole.blocks.size).toBe(7)
    expect(whole.roots.length).toBe(1)
  })

  it('asks for more bytes while the head is too short to hold the index', async () => {
    const { cid, car } = await commitCar(3)
    const { bytes } = await encodeSegment(DID, [
      { rev: '3kaaaaaaaaaa2', cid, sections: carSections(car) },
    ])
    let length = 1
    for (;;) {
      const head = decodeSegmentHead(bytes.subarray(0, length))
      if ('index' in head) break
      expect(head.need).toBeGreaterThan(length)
      length = Math.min(head.need, bytes.length)
    }
    expect(length).toBeLessThan(bytes.length)
  })

  it('names segments, import shares and older single-commit objects by their revs', () => {
    const key = segmentKey(DID, '3kaaaaaaaaaa2', '3kaaaaaaaaac2')
    expect(key).toBe(`repo/${DID}/3kaaaaaaaaaa2-3kaaaaaaaaac2.car`)
    expect(parseArchiveKey(DID, key)).toMatchObject({
      firstRev: '3kaaaaaaaaaa2',
      lastRev: '3kaaaaaaaaac2',
      legacy: false,
    })
    const share = segmentKey(DID, '3kaaaaaaaaaa2', '3kaaaaaaaaaa2', 7)
    expect(share).toBe(`repo/${DID}/3kaaaaaaaaaa2-3kaaaaaaaaaa2.000007.car`)
    expect(parseArchiveKey(DID, share)).toMatchObject({ firstRev: '3kaaaaaaaaaa2' })
    expect(parseArchiveKey(DID, `repo/${DID}/3kaaaaaaaaaa2.car`)).toMatchObject({
      firstRev: '3kaaaaaaaaaa2',
      lastRev: '3kaaaaaaaaaa2',
      legacy: true,
    })
    expect(parseArchiveKey(DID, `repo/${DID}/notes.txt`)).toBeNull()
  })
})
