/** Invite codes in D1. */
import { and, eq, inArray, sql } from 'drizzle-orm'
import type { Db } from './index.ts'
import { inviteCode, inviteCodeUse } from './schema.ts'

export type InviteCodeRow = typeof inviteCode.$inferSelect
export type InviteCodeUseRow = typeof inviteCodeUse.$inferSelect

export interface InviteCodeWithUses extends InviteCodeRow {
  uses: InviteCodeUseRow[]
}

/** D1 binds at most 100 parameters per statement; an invite code row takes 6. */
const INVITE_ROWS_PER_STATEMENT = 16

/** Inserts the codes in one batch (all or none). */
export async function insertInviteCodes(db: Db, rows: InviteCodeRow[]): Promise<void> {
  if (rows.length === 0) return
  const statements = []
  for (let i = 0; i < rows.length; i += INVITE_ROWS_PER_STATEMENT) {
    statements.push(db.insert(inviteCode).values(rows.slice(i, i + INVITE_ROWS_PER_STATEMENT)))
  }
  const [first, ...rest] = statements
  await db.batch([first!, ...rest])
}

/** Remaining uses of a code, or null when it does not exist or is disabled. */
export async function remainingInviteUses(db: Db, code: string): Promise<number | null> {
  const row = await db.select().from(inviteCode).where(eq(inviteCode.code, code)).get()
  if (!row || row.disabled) return null
  const used = await db
    .select({ n: sql<number>`count(*)` })
    .from(inviteCodeUse)
    .where(eq(inviteCodeUse.code, code))
    .get()
  return row.availableUses - (used?.n ?? 0)
}

/**
 * Records a use only while uses remain, in one statement, so two sign-ups racing for the last
 * use cannot both succeed. Returns false when the code is exhausted or disabled.
 */
export async function useInviteCode(
  db: Db,
  code: string,
  usedBy: string,
  usedAt: string,
): Promise<boolean> {
  const result = await db.run(sql`
    INSERT INTO invite_code_use (code, used_by, used_at)
    SELECT ${code}, ${usedBy}, ${usedAt}
    WHERE EXISTS (
      SELECT 1 FROM invite_code c
      WHERE c.code = ${code} AND c.disabled = 0
        AND c.available_uses > (SELECT count(*) FROM invite_code_use u WHERE u.code = ${code})
    )`)
  return (result.meta.changes ?? 0) > 0
}

/** The codes made for an account (`forAccount`), oldest first, each with its uses. */
export async function getInviteCodesFor(db: Db, did: string): Promise<InviteCodeWithUses[]> {
  const codes = await db
    .select()
    .from(inviteCode)
    .where(eq(inviteCode.forAccount, did))
    .orderBy(inviteCode.createdAt, inviteCode.code)
    .all()
  if (codes.length === 0) return []
  // A subquery rather than a list of codes: D1 binds at most 100 parameters.
  const uses = await db
    .select()
    .from(inviteCodeUse)
    .where(
      inArray(
        inviteCodeUse.code,
        db.select({ code: inviteCode.code }).from(inviteCode).where(eq(inviteCode.forAccount, did)),
      ),
    )
    .orderBy(inviteCodeUse.usedAt)
    .all()
  return codes.map((c) => ({ ...c, uses: uses.filter((u) => u.code === c.code) }))
}

export async function disableInviteCodes(db: Db, codes: string[]): Promise<void> {
  if (codes.length > 0) {
    await db
      .update(inviteCode)
      .set({ disabled: true })
      .where(and(inArray(inviteCode.code, codes)))
  }
}
