import { resolveFeedGenerator } from '../../../../proxy/feed-generator.ts'
import { forwardAsAccount } from '../../../../proxy/proxy-call.ts'
import { defineMethod } from '../../../../xrpc/method.ts'
import { noRateLimits } from '../../../../xrpc/rate-limits.ts'
import { accessStandard } from '../../../auth-verifiers.ts'
import { rpcToTargetService } from '../../../proxy-fallback.ts'

export const GET_FEED_SKELETON = 'app.bsky.feed.getFeedSkeleton'

/**
 * A feed from the user's chosen generator: forwarded to the AppView (or the `atproto-proxy`
 * service) with a token addressed to the feed generator itself (`aud` its DID as the record
 * names it, `lxm` getFeedSkeleton), which the AppView hands on when it asks the generator.
 */
export const getFeed = defineMethod('app.bsky.feed.getFeed', {
  auth: accessStandard,
  // As the reference PDS: getFeed and getFeedSkeleton on the service the call goes to.
  permission: (call) => [
    ...rpcToTargetService(call),
    ...rpcToTargetService({ ...call, nsid: GET_FEED_SKELETON }),
  ],
  rateLimits: noRateLimits,
  async handler({ nsid, params, auth, request, env, config, db }) {
    const generator = await resolveFeedGenerator(params.feed, { db: db, config })
    return forwardAsAccount(
      { nsid, request, did: auth.did, aud: generator.did, lxm: GET_FEED_SKELETON },
      { env, config },
    )
  },
})
