/**
 * The live check after a deploy: `/xrpc/_health` and `describeServer` on the public hostname.
 * A new Custom Domain can take a few minutes to get its certificate, so an unreachable PDS is
 * retried for a while and then reported as pending, not as a failure; a PDS that answers with
 * an error is a failure.
 */
export interface LiveStatus {
  version: string
  did: string
  availableUserDomains: string[]
  inviteCodeRequired: boolean
}

export class LiveCheckError extends Error {
  override name = 'LiveCheckError'
}

export async function checkLive(origin: string, timeoutMs: number): Promise<LiveStatus | null> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    let health: Response
    try {
      health = await fetch(`${origin}/xrpc/_health`, { signal: AbortSignal.timeout(10_000) })
    } catch {
      if (Date.now() > deadline) return null
      await new Promise((resolve) => setTimeout(resolve, 3000))
      continue
    }
    if (!health.ok) {
      throw new LiveCheckError(
        `${origin}/xrpc/_health answered ${health.status}: ${await health.text()}`,
      )
    }
    const { version } = (await health.json()) as { version: string }
    const describe = await fetch(`${origin}/xrpc/com.atproto.server.describeServer`)
    if (!describe.ok) {
      throw new LiveCheckError(
        `describeServer answered ${describe.status}: ${await describe.text()}`,
      )
    }
    const server = (await describe.json()) as Omit<LiveStatus, 'version'>
    return { version, ...server }
  }
}
