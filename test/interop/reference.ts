/** The reference PDS for the interop tests: started as the bench starts it, on a shared PLC. */

import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { ensureReferenceInstalled } from '../../bench/reference-install.ts'
import { startReference } from '../../bench/servers.ts'

export interface ReferencePds {
  /** Its public URL (`http://localhost:<port>`, what its DID documents name). */
  url: string
  /** The PLC token it would have emailed (read from its account database). */
  plcToken(did: string): string
  stop(): Promise<void>
}

/** `env`: more `PDS_*` settings (e.g. `PDS_INVITE_REQUIRED`). */
export async function startReferencePds(
  plcUrl: string,
  env: Record<string, string> = {},
): Promise<ReferencePds> {
  const runtime = ensureReferenceInstalled((line) => process.stdout.write(`${line}\n`))
  const server = await startReference(runtime.node, {
    plcUrl,
    // Our limit (the reference's default is 5 MB), so that the 20 MB video fits both.
    env: {
      PDS_BLOB_UPLOAD_LIMIT: String(100 * 1024 * 1024),
      // The reference serves preferences only with an AppView configured; none is called.
      PDS_BSKY_APP_VIEW_URL: 'http://127.0.0.1:9',
      PDS_BSKY_APP_VIEW_DID: 'did:web:appview.invalid',
      ...env,
    },
  })
  return {
    url: `http://localhost:${server.port}`,
    plcToken(did) {
      const db = new DatabaseSync(join(server.dataDir, 'account.sqlite'), { readOnly: true })
      try {
        const row = db
          .prepare(
            "SELECT token FROM email_token WHERE did = ? AND purpose = 'plc_operation' ORDER BY requestedAt DESC",
          )
          .get(did) as { token: string } | undefined
        if (!row) throw new Error(`the reference PDS has no PLC token for ${did}`)
        return row.token
      } finally {
        db.close()
      }
    },
    stop: () => server.stop(),
  }
}
