/**
 * How long each OAuth artefact lives, in seconds, after the atproto OAuth profile: short
 * access tokens, single-use refresh tokens, and sessions capped for public clients (two weeks
 * in all) but kept alive by use for confidential ones (a refresh token unused for 180 days
 * expires).
 */

/** A pushed request not opened in a browser by then is gone (the `expires_in` of PAR). */
export const PAR_LIFETIME = 5 * 60
/** Once a browser opened it: time for the user to sign in and consent. */
export const AUTHORIZATION_LIFETIME = 15 * 60
export const CODE_LIFETIME = 60
export const ACCESS_TOKEN_LIFETIME = 15 * 60
/** Public clients: the whole session, however often it is refreshed. */
export const PUBLIC_SESSION_LIFETIME = 14 * 24 * 3600
/** Confidential clients: each refresh token; a refresh starts a new one. */
export const CONFIDENTIAL_REFRESH_LIFETIME = 180 * 24 * 3600
/** A DPoP proof or client assertion is accepted this long after its `iat` (and as much clock skew ahead). */
export const PROOF_MAX_AGE = 5 * 60
export const PROOF_MAX_SKEW = 60
/** How long a browser remembers an account it signed in with (and skips the password). */
export const DEVICE_SIGN_IN_LIFETIME = 7 * 24 * 3600

export function nowSeconds(nowMs = Date.now()): number {
  return Math.floor(nowMs / 1000)
}
