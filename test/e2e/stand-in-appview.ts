/**
 * The stand-in AppView the end-to-end PDS proxies to (also its chat and moderation service).
 * It echoes what it receives; a few methods answer like the real one would for the tests:
 * `getProfile` of `missing.test` is a 400 XRPC error, and `app.bsky.unspecced.slowCall`
 * answers only after the PDS's proxy deadline.
 */
import {
  echo,
  type ReceivedRequest,
  type StandInService,
  startStandInService,
} from './stand-in-service.ts'

export const MISSING_ACTOR = 'missing.test'
export const SLOW_METHOD = 'app.bsky.unspecced.slowCall'

export function startStandInAppView(): Promise<StandInService> {
  return startStandInService({
    services: [
      { id: 'bsky_appview', type: 'BskyAppView' },
      { id: 'bsky_chat', type: 'BskyChatService' },
      { id: 'atproto_labeler', type: 'AtprotoLabeler' },
    ],
    routes: {
      'app.bsky.actor.getProfile': (request) =>
        request.query.actor === MISSING_ACTOR
          ? {
              status: 400,
              body: { error: 'InvalidRequest', message: 'Profile not found', hint: 'stand-in' },
            }
          : {
              body: {
                did: request.query.actor,
                handle: 'stand-in.test',
                received: request,
              },
            },
      'app.bsky.feed.getFeed': echo({ feed: [] }),
      'com.atproto.moderation.createReport': (request) => {
        const input = JSON.parse(request.body)
        return {
          body: {
            id: 1,
            reasonType: input.reasonType,
            subject: input.subject,
            reportedBy: tokenIssuer(request),
            createdAt: new Date().toISOString(),
            received: request,
          },
        }
      },
      [SLOW_METHOD]: (request) => ({ delayMs: 10_000, body: { received: request } }),
    },
  })
}

/** The `iss` of the request's bearer token (unverified: the tests verify it themselves). */
function tokenIssuer(request: ReceivedRequest): string {
  const payload = (request.headers.authorization ?? '').split('.')[1] ?? ''
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')).iss
}
