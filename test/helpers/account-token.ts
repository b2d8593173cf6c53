/**
 * How tests get a one-off account token (account deletion, PLC operation signature) that the
 * PDS issued to the user. Today the operator's `dev.edgepds.admin.getAccountTokens` shows it;
 * once tokens go out by email, this is the one place to read the mailbox instead. Runs in Node
 * and in workerd: the caller passes its fetch (SELF.fetch in worker tests).
 */
export interface AccountTokenSource {
  fetch: (url: string, init?: RequestInit) => Promise<Response>
  /** The PDS, e.g. `http://localhost:2583`. */
  baseUrl: string
  adminPassword: string
}

export async function readAccountToken(
  source: AccountTokenSource,
  did: string,
  purpose: 'delete_account' | 'plc_operation',
): Promise<string> {
  const url = `${source.baseUrl}/xrpc/dev.edgepds.admin.getAccountTokens?did=${encodeURIComponent(did)}`
  const res = await source.fetch(url, {
    headers: { authorization: `Basic ${btoa(`admin:${source.adminPassword}`)}` },
  })
  if (res.status !== 200) throw new Error(`getAccountTokens: ${res.status} ${await res.text()}`)
  const { tokens } = (await res.json()) as { tokens: { purpose: string; token: string }[] }
  const entry = tokens.find((t) => t.purpose === purpose)
  if (!entry) throw new Error(`no ${purpose} token for ${did}`)
  return entry.token
}
