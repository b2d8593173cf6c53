/** What an email address and a password must look like, wherever one is set. */
import { RequestRefusedError } from '../errors.ts'

export const MIN_PASSWORD_LENGTH = 8
const MAX_PASSWORD_LENGTH = 256
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/

/** The address in lower case; InvalidEmail when it is not one. */
export function checkEmail(email: string | undefined): string {
  if (!email) throw new RequestRefusedError('Email is required')
  const normalized = email.trim().toLowerCase()
  if (!EMAIL.test(normalized) || normalized.length > 254) {
    throw new RequestRefusedError('This email address is not valid', 'InvalidEmail')
  }
  return normalized
}

export function checkPassword(password: string | undefined): string {
  if (!password) throw new RequestRefusedError('Password is required', 'InvalidPassword')
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new RequestRefusedError(
      `Password must be at least ${MIN_PASSWORD_LENGTH} characters`,
      'InvalidPassword',
    )
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw new RequestRefusedError(
      `Password must be at most ${MAX_PASSWORD_LENGTH} characters`,
      'InvalidPassword',
    )
  }
  return password
}
