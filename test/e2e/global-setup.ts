/**
 * Starts the PDS the way a developer does (`scripts/dev.mjs`: wrangler dev + the local PLC
 * directory), on free ports with a fresh state folder, for the end-to-end tests to drive with
 * the official client. Beside it runs a stand-in AppView (also the chat and moderation service)
 * on loopback, which the PDS is configured to proxy to.
 */
import type { TestProject } from 'vitest/node'
import { startDevServer } from './dev-server.ts'
import { startStandInAppView } from './stand-in-appview.ts'

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const appView = await startStandInAppView()
  const server = await startDevServer({
    env: {
      PDS_VALIDATE_RESPONSES: 'true',
      PDS_APPVIEW_URL: appView.url,
      PDS_APPVIEW_DID: `${appView.did}#bsky_appview`,
      PDS_CHAT_URL: appView.url,
      PDS_CHAT_DID: `${appView.did}#bsky_chat`,
      PDS_MODERATION_URL: appView.url,
      PDS_MODERATION_DID: `${appView.did}#atproto_labeler`,
      // Short, so that the timeout test does not wait long.
      PDS_PROXY_TIMEOUT_MS: '3000',
      // Every e2e file signs its accounts up from 127.0.0.1: more than the 50 per 5 minutes
      // one address may create in production (the login limits stay as they are).
      PDS_RATE_LIMITS: 'createAccount-ip=1000/300',
    },
  }).catch(async (err) => {
    await appView.close()
    throw err
  })
  project.provide('pdsUrl', server.pdsUrl)
  project.provide('plcUrl', server.plcUrl)
  project.provide('appViewUrl', appView.url)
  return async () => {
    await server.stop()
    await appView.close()
    server.removeState()
  }
}
