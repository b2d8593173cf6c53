/**
 * The outbox's in-memory deliveries: what a fresh commit hands to D1, the event log and R2
 * must be byte for byte what the same entry rebuilds from its SQLite row after a reset.
 */
import { env, runInDurableObject } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { SqlBlockStore } from '../../src/account/block-store.ts'
import { Outbox, type OutboxRow } from '../../src/account/outbox.ts'
import { ensureAccountSchema } from '../../src/account/storage-schema.ts'
import { accountStub } from '../../src/bindings.ts'
import { commitEntry } from '../helpers/outbox-entry.ts'

/** A storage of its own: an account object that never gets a repo. */
function scratchObject(name: string) {
  return accountStub(env, `did:plc:${name.padEnd(24, 'x').slice(0, 24)}`)
}

describe('account outbox', () => {
  it('delivers a fresh entry exactly as it would rebuild it from its row', async () => {
    await runInDurableObject(scratchObject('outboxsame'), async (_instance, state) => {
      const sql = state.storage.sql
      ensureAccountSchema(sql)
      const store = new SqlBlockStore(sql)
      const fresh = new Outbox(sql, store)
      const { entry, blocks } = await commitEntry('hello', '3jzfcijpj2z2a')
      state.storage.transactionSync(() => {
        store.putSync(blocks, '3jzfcijpj2z2a')
        fresh.appendSync(1, entry, '2024-01-01T00:00:00.000Z')
      })
      fresh.prepare(1, [entry], blocks)

      const row = fresh.pendingDelivery(10)[0] as OutboxRow
      const rebuilt = new Outbox(sql, store)
      expect(fresh.indexOf(row)).toEqual(rebuilt.indexOf(row))
      expect(fresh.indexOf(row).upserts[0]?.value).toBe(
        '{"text":"hello","$type":"app.bsky.feed.post","createdAt":"2024-01-01T00:00:00.000Z"}',
      )
      const [freshEvent, rebuiltEvent] = [await fresh.eventOf(row), await rebuilt.eventOf(row)]
      expect(freshEvent.outboxId).toBe(1)
      expect(freshEvent.type).toBe(rebuiltEvent.type)
      expect(Array.from(freshEvent.body)).toEqual(Array.from(rebuiltEvent.body))
      expect(Array.from(await fresh.carOf(row))).toEqual(Array.from(await rebuilt.carOf(row)))
    })
  })

  it('keeps at most 16 MB of deliveries in memory, and rebuilds the rest from the rows', async () => {
    await runInDurableObject(scratchObject('outboxbound'), async (_instance, state) => {
      const sql = state.storage.sql
      ensureAccountSchema(sql)
      const store = new SqlBlockStore(sql)
      const outbox = new Outbox(sql, store)
      const big = 'x'.repeat(400_000)
      for (let id = 1; id <= 20; id++) {
        const rev = `3jzfcijpj2z${String.fromCharCode(96 + id)}a`
        const { entry, blocks } = await commitEntry(`${id} ${big}`, rev)
        state.storage.transactionSync(() => {
          store.putSync(blocks, rev)
          outbox.appendSync(id, entry, '2024-01-01T00:00:00.000Z')
        })
        outbox.prepare(id, [entry], blocks)
        // Each entry holds its record three times over (index JSON, event CAR, archive CAR).
        expect(outbox.preparedSize().bytes).toBeLessThanOrEqual(16 * 1024 * 1024)
      }
      expect(outbox.preparedSize().entries).toBeLessThan(20)
      const rows = outbox.pendingDelivery(20)
      const rebuilt = new Outbox(sql, store)
      for (const row of [rows[0]!, rows[19]!]) {
        expect(outbox.indexOf(row)).toEqual(rebuilt.indexOf(row))
        expect(Array.from(await outbox.carOf(row))).toEqual(Array.from(await rebuilt.carOf(row)))
      }
      outbox.markDelivered(
        rows.map((row) => row.id),
        rows.map((row) => row.id),
      )
      outbox.markArchived(rows.map((row) => row.id))
      expect(outbox.preparedSize()).toEqual({ entries: 0, bytes: 0 })
    })
  })

  it('marks runs of ids and drops an entry once every destination has it', async () => {
    await runInDurableObject(scratchObject('outboxmark'), async (_instance, state) => {
      const sql = state.storage.sql
      ensureAccountSchema(sql)
      const store = new SqlBlockStore(sql)
      const outbox = new Outbox(sql, store)
      const ids = [1, 2, 3, 7, 8]
      const revs = [
        '3jzfcijpj2z2a',
        '3jzfcijpj2z2b',
        '3jzfcijpj2z2c',
        '3jzfcijpj2z2d',
        '3jzfcijpj2z2e',
      ]
      for (const [i, id] of ids.entries()) {
        const { entry, blocks } = await commitEntry(`post ${id}`, revs[i]!)
        state.storage.transactionSync(() => {
          store.putSync(blocks, revs[i]!)
          outbox.appendSync(id, entry, '2024-01-01T00:00:00.000Z')
        })
        outbox.prepare(id, [entry], blocks)
      }

      // D1 took 1, 2, 3 and 8; the event log took 1, 2, 7 and 8.
      outbox.markDelivered([8, 1, 3, 2], [1, 2, 7, 8])
      expect(outbox.pendingDelivery(10).map((row) => row.id)).toEqual([3, 7])
      expect(outbox.pendingArchive(10).map((row) => row.id)).toEqual(ids)

      outbox.markArchived([2, 8, 7])
      const left = sql
        .exec<{ id: number }>('SELECT id FROM outbox ORDER BY id')
        .toArray()
        .map((row) => row.id)
      expect(left).toEqual([1, 3, 7])

      outbox.markDelivered([7], [3])
      outbox.markArchived([1, 3])
      expect(outbox.isEmpty()).toBe(true)
    })
  })
})
