/** Signing in to a PDS with a password, for the client commands. */
import { ExpectedError } from './errors.ts'
import { type Session, type XrpcClient, XrpcError } from './xrpc.ts'

/**
 * A session at `client`'s PDS; a refused password (or a sign-in code the command cannot ask
 * for) is an ExpectedError naming `envName`, the variable that gives the password.
 */
export async function signIn(
  client: XrpcClient,
  identifier: string,
  password: string,
  envName: string,
): Promise<Session> {
  try {
    return await client.login(identifier, password)
  } catch (err) {
    if (
      err instanceof XrpcError &&
      (err.status === 401 || err.error === 'AuthFactorTokenRequired')
    ) {
      const why =
        err.error === 'AuthFactorTokenRequired'
          ? 'it asks for a sign-in code sent by email, which this command cannot handle yet'
          : `the password was refused (${err.message})`
      throw new ExpectedError(
        `cannot sign in to ${client.label} (${client.service}) as ${identifier}: ${why}; ` +
          `check the password (or ${envName})`,
      )
    }
    throw err
  }
}
