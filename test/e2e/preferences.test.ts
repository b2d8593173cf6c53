/**
 * Preferences through the official client: `agent.getPreferences()` and the helpers the
 * Bluesky app uses to save feeds and muted words, stored on the PDS (never proxied, even with
 * the app's `atproto-proxy` header), and still there after `npm run dev` restarts.
 */
import { AtpAgent, CredentialSession } from '@atproto/api'
import { describe, expect, inject, it } from 'vitest'
import { startDevServer } from './dev-server.ts'

const pdsUrl = inject('pdsUrl')
const appViewUrl = inject('appViewUrl')
const appViewDid = `did:web:localhost%3A${new URL(appViewUrl).port}`
const password = 'correct horse battery staple'
const hotFeed = 'at://did:plc:z72i7hdynmk6r22z27h6tvur/app.bsky.feed.generator/whats-hot'

async function newAccount(service: string, prefix: string) {
  const agent = new AtpAgent(new CredentialSession(new URL(service)))
  const handle = `${prefix}${Math.random().toString(36).slice(2, 10)}.test`
  await agent.createAccount({ handle, email: `${handle}@example.com`, password })
  return { agent, handle }
}

/** What the Bluesky app does in its settings: pin a feed, mute a word, allow adult content. */
async function setPreferences(agent: AtpAgent): Promise<void> {
  await agent.addSavedFeeds([{ type: 'feed', value: hotFeed, pinned: true }])
  await agent.addMutedWord({ value: 'spoilers', targets: ['content', 'tag'], actorTarget: 'all' })
  await agent.setAdultContentEnabled(true)
}

async function expectPreferences(agent: AtpAgent): Promise<void> {
  const prefs = await agent.getPreferences()
  expect(prefs.savedFeeds).toContainEqual(
    expect.objectContaining({ type: 'feed', value: hotFeed, pinned: true }),
  )
  expect(prefs.moderationPrefs.mutedWords).toEqual([
    expect.objectContaining({ value: 'spoilers', targets: ['content', 'tag'], actorTarget: 'all' }),
  ])
  expect(prefs.moderationPrefs.adultContentEnabled).toBe(true)
}

describe('preferences with @atproto/api', () => {
  it('round-trip through the PDS and are seen by a new session', async () => {
    const { agent, handle } = await newAccount(pdsUrl, 'prefs')
    const fresh = await agent.getPreferences()
    expect(fresh.moderationPrefs.mutedWords).toEqual([])
    expect(fresh.moderationPrefs.adultContentEnabled).toBe(false)

    await setPreferences(agent)
    await expectPreferences(agent)

    const other = new AtpAgent({ service: pdsUrl })
    await other.login({ identifier: handle, password })
    await expectPreferences(other)
  })

  it('stay on the PDS when the app sends its AppView proxy header', async () => {
    const { agent } = await newAccount(pdsUrl, 'prefhdr')
    agent.configureProxy(`${appViewDid}#bsky_appview` as Parameters<typeof agent.configureProxy>[0])
    await setPreferences(agent)
    await expectPreferences(agent)
    // The stand-in AppView would have echoed `received`; our answer is the stored list.
    const raw = await agent.app.bsky.actor.getPreferences()
    expect(raw.data).not.toHaveProperty('received')
    expect(raw.data.preferences.length).toBeGreaterThanOrEqual(3)
  })

  it('survive a restart of npm run dev', { timeout: 300_000 }, async () => {
    let server = await startDevServer()
    try {
      const { agent, handle } = await newAccount(server.pdsUrl, 'prefrst')
      await setPreferences(agent)
      const before = (await agent.app.bsky.actor.getPreferences()).data.preferences

      await server.stop()
      server = await startDevServer({
        stateDir: server.stateDir,
        pdsPort: server.pdsPort,
        plcPort: server.plcPort,
      })

      const again = new AtpAgent({ service: server.pdsUrl })
      await again.login({ identifier: handle, password })
      expect((await again.app.bsky.actor.getPreferences()).data.preferences).toEqual(before)
      await expectPreferences(again)
    } finally {
      await server.stop()
      server.removeState()
    }
  })
})
