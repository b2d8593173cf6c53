/** Service-auth tokens an account's signing key issues: for proxied calls and getServiceAuth. */
import { createServiceAuthToken } from '../auth/service-auth.ts'
import type { Config } from '../config.ts'
import { type AccountKeyRow, accountKeypair } from './signing-keys.ts'

/** Proxied calls are made at once: a token that lives a minute is plenty. */
export const PROXY_TOKEN_LIFETIME_SECONDS = 60

export interface ServiceTokenRequest {
  aud: string
  /** The method the token is bound to; null only for getServiceAuth's method-less tokens. */
  lxm: string | null
  expiresInSeconds?: number
  /** Milliseconds since the epoch; defaults to now. */
  now?: number
}

export async function createAccountServiceToken(
  config: Config,
  account: AccountKeyRow,
  request: ServiceTokenRequest,
): Promise<string> {
  return createServiceAuthToken({
    iss: account.did,
    aud: request.aud,
    lxm: request.lxm,
    keypair: await accountKeypair(config, account),
    expiresInSeconds: request.expiresInSeconds ?? PROXY_TOKEN_LIFETIME_SECONDS,
    ...(request.now === undefined ? {} : { now: request.now }),
  })
}
