/** The rules for an email address and a new password, wherever an account gets one. */
import { RequestRefusedError } from '../errors.ts'

export const MIN_PASSWORD_LENGTH = 8
export const MAX_PASSWORD_LENGTH = 256
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/

/** The address as stored (trimmed, lower case); 400 `InvalidEmail` when it is not one. */
export function checkEmailAddress(email: string | undefined): string {
  if (!email) throw new RequestRefusedError('Email is required')
  const normalized = email.trim().toLowerCase()
  if (!EMAIL.test(normalized) || normalized.length > 254) {
    throw new RequestRefusedError('This email address is not valid', 'InvalidEmail')
  }
  return normalized
}

/** 400 `InvalidPassword` outside 8 to 256 characters. */
export function checkNewPassword(password: string | undefined): string {
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
