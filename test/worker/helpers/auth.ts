/** Assertions on how the PDS refuses credentials, in one place for the tests that share them. */
import { expect } from 'vitest'

/**
 * What a session of the wrong kind gets (an app-password session on a full-access method):
 * 400 `InvalidToken` "Bad token scope", as on the reference PDS — the Bluesky app matches that
 * message to tell the user to sign in with the main password.
 */
export function expectWrongSessionKind(res: { status: number; body: unknown }): void {
  expect(res.status).toBe(400)
  expect(res.body).toEqual({ error: 'InvalidToken', message: 'Bad token scope' })
}
