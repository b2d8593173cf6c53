/** The account fields every session response carries (createSession, getSession, ...). */
import type { AccountRow } from '../db/accounts.ts'

export interface SessionView {
  handle: string
  did: string
  email?: string
  emailConfirmed?: boolean
  emailAuthFactor: boolean
  active: boolean
  status?: string
}

/** App-password sessions do not see the account's email, as on the reference PDS. */
export function sessionView(row: AccountRow, opts: { showEmail: boolean }): SessionView {
  const view: SessionView = {
    handle: row.handle,
    did: row.did,
    emailAuthFactor: row.emailAuthFactor,
    active: row.status === 'active',
  }
  if (opts.showEmail && row.email) {
    view.email = row.email
    view.emailConfirmed = row.emailConfirmedAt !== null
  }
  if (row.status !== 'active') view.status = row.status
  return view
}
