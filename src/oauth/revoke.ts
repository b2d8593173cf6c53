/**
 * Token revocation (RFC 7009): an access or refresh token ends its whole session at once
 * (access tokens are checked against the session on every request). Unknown tokens are
 * answered 200 as the RFC asks, so the endpoint tells nothing about which tokens exist.
 */
import { deleteOAuthSession, getOAuthSessionByRefresh } from '../db/oauth.ts'
import { verifyAccessTokenJwt } from './access-token.ts'
import { answer, type OAuthDeps, readForm } from './endpoint.ts'
import { invalidRequest } from './errors.ts'
import { tokenHash } from './secrets.ts'

export function handleRevoke(request: Request, deps: OAuthDeps): Promise<Response> {
  return answer(deps, async () => {
    const form = await readForm(request)
    const token = form.get('token')
    if (!token || token.length > 8192) throw invalidRequest('token is required')
    const clientId = form.get('client_id')
    const session = token.startsWith('ref-')
      ? await getOAuthSessionByRefresh(deps.db, tokenHash(token))
      : await verifyAccessTokenJwt(deps.config, token).then((claims) =>
          claims ? { id: claims.sid, clientId: claims.clientId } : null,
        )
    if (session && (clientId === null || clientId === session.clientId)) {
      await deleteOAuthSession(deps.db, session.id)
    }
    return { body: {} }
  })
}
