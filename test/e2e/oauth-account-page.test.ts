/**
 * The account page: a user signs in on it (Chromium, no JavaScript needed) and sees the apps
 * holding an OAuth session and their app passwords, and revokes them; both stop working at once.
 */
import { AtpAgent } from '@atproto/api'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createTestAccount, PASSWORD, type TestAccount } from './oauth/accounts.ts'
import { launchBrowser, SCREENSHOTS } from './oauth/browser.ts'
import { RawOAuthClient } from './oauth/raw-client.ts'

const pdsUrl = inject('pdsUrl')
const REDIRECT = 'http://127.0.0.1:7779/cb'
const SCOPE = 'atproto transition:generic'

let browser: Browser
let user: TestAccount

beforeAll(async () => {
  browser = await launchBrowser()
  user = await createTestAccount(pdsUrl, 'oauthpage')
})
afterAll(async () => {
  await browser?.close()
})

describe('the account page', () => {
  it('lists OAuth sessions and app passwords, and revokes them at once', async () => {
    const client = await RawOAuthClient.create({
      pdsUrl,
      clientId: `http://localhost?${new URLSearchParams({ redirect_uri: REDIRECT, scope: SCOPE })}`,
      redirectUri: REDIRECT,
      scope: SCOPE,
    })
    const { tokens } = await client.signIn(user.handle, PASSWORD)
    const access = tokens.access_token as string
    expect((await client.xrpc('com.atproto.server.getSession', access)).status).toBe(200)
    const agent = new AtpAgent({ service: pdsUrl })
    await agent.login({ identifier: user.handle, password: PASSWORD })
    const appPassword = await agent.com.atproto.server.createAppPassword({ name: 'old phone' })
    const appAgent = new AtpAgent({ service: pdsUrl })
    await appAgent.login({ identifier: user.handle, password: appPassword.data.password })

    const context = await browser.newContext({ viewport: { width: 390, height: 844 } })
    const page = await context.newPage()
    page.setDefaultTimeout(15_000)
    try {
      await page.goto(`${pdsUrl}/account`)
      await page.getByLabel('Handle or email').fill(user.handle)
      await page.getByLabel('Password').fill(PASSWORD)
      await page.getByRole('button', { name: 'Sign in' }).click()
      await page.getByRole('heading', { name: `@${user.handle}` }).waitFor()
      await page.screenshot({ path: `${SCREENSHOTS}oauth-account-page.png`, fullPage: true })
      expect(await page.getByText('Loopback client').count()).toBe(1)
      expect(await page.getByText('old phone').count()).toBe(1)

      await page.getByRole('button', { name: 'Revoke Loopback client' }).click()
      await page.getByRole('heading', { name: `@${user.handle}` }).waitFor()
      expect(await page.getByText('No app is signed in.').count()).toBe(1)
      expect((await client.xrpc('com.atproto.server.getSession', access)).status).toBe(401)

      await page.getByRole('button', { name: 'Revoke app password old phone' }).click()
      await page.getByRole('heading', { name: `@${user.handle}` }).waitFor()
      expect(await page.getByText('No app passwords.').count()).toBe(1)
      await expect(appAgent.com.atproto.server.getSession()).rejects.toMatchObject({ status: 401 })

      await page.getByRole('button', { name: 'Sign out of this device' }).click()
      await page.getByRole('button', { name: 'Sign in' }).waitFor()
    } finally {
      await context.close()
    }
  })

  it('refuses a revoke without this browser’s CSRF token or sign-in', async () => {
    const res = await fetch(`${pdsUrl}/account/revoke`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ did: user.did, kind: 'oauth', id: 'x', csrf: 'forged' }),
    })
    expect(res.status).toBe(403)
  })
})
