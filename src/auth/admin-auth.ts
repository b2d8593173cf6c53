/**
 * Admin requests use HTTP Basic auth with user `admin` and PDS_ADMIN_PASSWORD [spec:xrpc].
 */
import { base64Decode } from '../data/base64.ts'
import { timingSafeEqualString } from './constant-time.ts'

const ADMIN_USER = 'admin'
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/**
 * True only for `Basic base64("admin:<adminPassword>")`. The password comparison takes the
 * same time wherever the guess goes wrong; an empty configured password matches nothing.
 */
export function checkAdminBasicAuth(
  authorization: string | null | undefined,
  adminPassword: string | null | undefined,
): boolean {
  if (!authorization || !adminPassword) return false
  const credentials = parseBasicAuth(authorization)
  if (!credentials) return false
  // Evaluate both so the timing does not tell a wrong user name from a wrong password.
  const userOk = credentials.username === ADMIN_USER
  const passwordOk = timingSafeEqualString(credentials.password, adminPassword)
  return userOk && passwordOk
}

export interface BasicCredentials {
  username: string
  password: string
}

/** Reads `Basic <base64(user:password)>`; null when the header is not that. */
export function parseBasicAuth(authorization: string): BasicCredentials | null {
  const match = /^basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(authorization)
  if (!match) return null
  let decoded: string
  try {
    decoded = decoder.decode(base64Decode(match[1]!))
  } catch {
    return null
  }
  const colon = decoded.indexOf(':')
  if (colon === -1) return null
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) }
}
