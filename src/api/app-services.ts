/**
 * What every handler and auth verifier gets besides the call itself: D1 through drizzle.
 * `src/xrpc` declares `AppServices` empty so it does not depend on `src/db`; this fills it in.
 */
import type { Db } from '../db/index.ts'

declare module '../xrpc/method.ts' {
  interface AppServices {
    db: Db
  }
}
