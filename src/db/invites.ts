/** Invite codes in D1. */
import { and, eq, inArray, sql } from 'drizzle-orm'
import type { Db } from './index.ts'
import { account, inviteCode, inviteCodeUse } from './schema.ts'

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

/**
 * Remaining uses of a code, or null when it does not exist or is disabled (itself, or all the
 * codes of its account by disableAccountInvites).
 */
export async function remainingInviteUses(db: Db, code: string): Promise<number | null> {
  const row = await db.select().from(inviteCode).where(eq(inviteCode.code, code)).get()
  if (!row || row.disabled) return null
  // The operator switched off the invites of the account the code was made for.
  const owner = await db
    .select({ off: account.invitesDisabled })
    .from(account)
    .where(eq(account.did, row.forAccount))
    .get()
  if (owner?.off) return null
  const used = await db
    .select({ n: sql<number>`count(*)` })
    .from(inviteCodeUse)
    .where(eq(inviteCodeUse.code, code))
    .get()
  return row.availableUses - (used?.n ?? 0)
}

/**
 * Records a use only while uses remain, in one statement, so two sign-ups racing for the last
 * use cannot both succeed. Returns false when the code is exhausted or disabled (or its account's invites are).
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
        AND NOT EXISTS (
          SELECT 1 FROM account a WHERE a.did = c.for_account AND a.invites_disabled = 1
        )
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

/** One page of every code, newest first (`sort: recent`) or most used first (`usage`). */
export async function listInviteCodes(
  db: Db,
  opts: { sort: 'recent' | 'usage'; limit: number; cursor?: string },
): Promise<{ codes: InviteCodeWithUses[]; cursor?: string }> {
  const offset = opts.cursor === undefined ? 0 : Number.parseInt(opts.cursor, 10) || 0
  const order =
    opts.sort === 'usage'
      ? sql`(SELECT count(*) FROM invite_code_use u WHERE u.code = invite_code.code) DESC, invite_code.created_at DESC, invite_code.code`
      : sql`invite_code.created_at DESC, invite_code.code`
  const codes = await db
    .select()
    .from(inviteCode)
    .orderBy(order)
    .limit(opts.limit)
    .offset(offset)
    .all()
  if (codes.length === 0) return { codes: [] }
  const uses = await db
    .select()
    .from(inviteCodeUse)
    // One bound JSON list: D1 binds at most 100 parameters and a page holds up to 500 codes.
    .where(
      sql`${inviteCodeUse.code} IN (SELECT value FROM json_each(${JSON.stringify(codes.map((c) => c.code))}))`,
    )
    .orderBy(inviteCodeUse.usedAt)
    .all()
  const page = codes.map((c) => ({ ...c, uses: uses.filter((u) => u.code === c.code) }))
  return {
    codes: page,
    cursor: codes.length === opts.limit ? String(offset + codes.length) : undefined,
  }
}

/** These codes (at most 100), each with its uses. */
export async function listInviteCodesByCode(
  db: Db,
  codes: string[],
): Promise<InviteCodeWithUses[]> {
  if (codes.length === 0) return []
  const rows = await db.select().from(inviteCode).where(inArray(inviteCode.code, codes)).all()
  const uses = await db
    .select()
    .from(inviteCodeUse)
    .where(inArray(inviteCodeUse.code, codes))
    .orderBy(inviteCodeUse.usedAt)
    .all()
  return rows.map((c) => ({ ...c, uses: uses.filter((u) => u.code === c.code) }))
}
