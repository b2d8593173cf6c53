/**
 * The relay doctor: the Cron Trigger's look at each relay in PDS_CRAWLERS, healing what a
 * relay lost of this host (see `runRelayDoctor`). Its last report per relay is kept in D1
 * (`relay_status`) for the admin page's Federation view.
 */
import type { Db } from '../db/index.ts'
import { relayStatus } from '../db/schema.ts'
import type { RelayReport } from './relay-report.ts'

export async function readRelayReports(
  db: Db,
): Promise<Map<string, { checkedAt: string; report: RelayReport }>> {
  const rows = await db.select().from(relayStatus).all()
  return new Map(
    rows.map((row) => [
      row.relay,
      { checkedAt: row.checkedAt, report: JSON.parse(row.report) as RelayReport },
    ]),
  )
}

export async function saveRelayReport(
  db: Db,
  relay: string,
  report: RelayReport,
  now: Date,
): Promise<void> {
  const row = { relay, checkedAt: now.toISOString(), report: JSON.stringify(report) }
  await db
    .insert(relayStatus)
    .values(row)
    .onConflictDoUpdate({
      target: relayStatus.relay,
      set: { checkedAt: row.checkedAt, report: row.report },
    })
}
