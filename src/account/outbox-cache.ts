/**
 * Fresh outbox entries' deliveries kept ready in memory, so that delivering a commit does not
 * read its blocks back from SQLite and decode what was just encoded. Bounded by count and
 * bytes: the archive runs a second after 32 commits wait for it (alarm.ts), or 10 s after
 * fewer, so this holds about a second of fast writes; beyond either bound (a burst of 200-write commits has CARs of up to 2 MB), the
 * oldest are dropped and rebuilt from their rows when their turn comes.
 */
import type { Deliveries } from './outbox-deliveries.ts'

const MAX_PREPARED = 1024
const MAX_PREPARED_BYTES = 16 * 1024 * 1024

export type Destination = 'indexed' | 'sequenced' | 'archived'

export class OutboxCache {
  private readonly prepared = new Map<number, Deliveries>()
  private bytes = 0

  get(id: number): Deliveries | undefined {
    return this.prepared.get(id)
  }

  add(id: number, deliveries: Deliveries): void {
    this.prepared.set(id, deliveries)
    this.bytes += deliveries.indexBytes + deliveries.eventBytes + deliveries.carBytes
  }

  /** Drops the oldest entries until both bounds hold. */
  trim(): void {
    for (const [id, deliveries] of this.prepared) {
      if (this.prepared.size <= MAX_PREPARED && this.bytes <= MAX_PREPARED_BYTES) break
      this.drop(id, deliveries)
    }
  }

  /** What is kept (bounded: MAX_PREPARED, MAX_PREPARED_BYTES). */
  size(): { entries: number; bytes: number } {
    return { entries: this.prepared.size, bytes: this.bytes }
  }

  /** Forgets the parts these destinations now have. */
  delivered(ids: Iterable<number>, destinations: Destination[]): void {
    for (const id of ids) {
      const deliveries = this.prepared.get(id)
      if (deliveries) this.consume(id, deliveries, destinations)
    }
  }

  /** Every entry kept, for giving up on one destination altogether. */
  ids(): number[] {
    return [...this.prepared.keys()]
  }

  private consume(id: number, deliveries: Deliveries, destinations: Destination[]): void {
    if (destinations.includes('indexed') && deliveries.index) {
      delete deliveries.index
      this.bytes -= deliveries.indexBytes
    }
    if (destinations.includes('sequenced') && deliveries.event) {
      delete deliveries.event
      this.bytes -= deliveries.eventBytes
    }
    if (destinations.includes('archived') && deliveries.car) {
      delete deliveries.car
      this.bytes -= deliveries.carBytes
    }
    if (!deliveries.index && !deliveries.event && !deliveries.car) this.prepared.delete(id)
  }

  private drop(id: number, deliveries: Deliveries): void {
    this.prepared.delete(id)
    if (deliveries.index) this.bytes -= deliveries.indexBytes
    if (deliveries.event) this.bytes -= deliveries.eventBytes
    if (deliveries.car) this.bytes -= deliveries.carBytes
  }
}
