/**
 * The admin page in headless Chromium (Debian's, through playwright-core) against `npm run
 * dev`: sign in with the admin password, take an account down and back, create an invite
 * code, see the federation page; and what the page refuses (a wrong password, a form without
 * its CSRF token, framing). Screenshots go to test/screenshots/.
 */
import { existsSync, mkdirSync } from 'node:fs'
import { AtpAgent } from '@atproto/api'
import { type Browser, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DevServer, runCronNow, startDevServer } from './dev-server.ts'

const PASSWORD = 'e2e admin password'
const SHOTS = new URL('../screenshots/', import.meta.url).pathname
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p))

let server: DevServer
let browser: Browser
let page: Page

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true })
  server = await startDevServer({
    env: { PDS_ADMIN_PASSWORD: PASSWORD, PDS_CRAWLERS: 'relay.invalid' },
  })
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true })
  page = await browser.newPage({ viewport: { width: 390, height: 844 } })
})

afterAll(async () => {
  await browser?.close()
  await server?.stop()
  server?.removeState()
})

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: `${SHOTS}admin-${name}.png`, fullPage: true })
}

describe('admin page', () => {
  it('answers with a strict CSP and refuses a wrong password', async () => {
    const res = await fetch(`${server.pdsUrl}/admin`)
    expect(res.status).toBe(401)
    const csp = res.headers.get('content-security-policy') ?? ''
    expect(csp).toContain("frame-ancestors 'none'")
    expect(csp).toContain("default-src 'none'")
    expect(csp).not.toContain('script-src')

    await page.goto(`${server.pdsUrl}/admin`)
    await page.getByLabel('Admin password').fill('wrong')
    await page.getByRole('button', { name: 'Sign in' }).click()
    expect((await page.getByRole('alert').textContent())?.trim()).toBe('Wrong admin password.')
  })

  it('signs in, takes an account down and back, creates an invite, shows federation', async () => {
    const agent = new AtpAgent({ service: server.pdsUrl })
    const handle = `page${Math.random().toString(36).slice(2, 10)}.test`
    await agent.createAccount({ handle, email: `${handle}@example.com`, password: 'page pass' })
    await agent.post({ text: 'hello from the admin test', createdAt: new Date().toISOString() })

    await page.goto(`${server.pdsUrl}/admin`)
    await page.getByLabel('Admin password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Sign in' }).click()
    expect((await page.getByRole('heading', { level: 1 }).textContent())?.trim()).toBe('Overview')
    const cookies = await page.context().cookies()
    const session = cookies.find((c) => c.name === 'pds_admin')
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/admin' })
    await shot('overview')

    await page.getByRole('link', { name: 'Accounts' }).click()
    await page.getByLabel('Search by handle, DID or email').fill(handle)
    await page.getByRole('button', { name: 'Search' }).click()
    await page.getByRole('button', { name: `Take down ${handle}` }).click()
    expect((await page.getByRole('status').textContent())?.trim()).toBe(`Took down ${handle}`)
    await shot('takendown')
    const read = await fetch(
      `${server.pdsUrl}/xrpc/com.atproto.repo.describeRepo?repo=${encodeURIComponent(handle)}`,
    )
    expect(((await read.json()) as { error: string }).error).toBe('RepoTakendown')

    await page.getByRole('button', { name: `Restore ${handle}` }).click()
    expect((await page.getByRole('status').textContent())?.trim()).toBe(`Restored ${handle}`)
    const again = await fetch(
      `${server.pdsUrl}/xrpc/com.atproto.repo.describeRepo?repo=${encodeURIComponent(handle)}`,
    )
    expect(again.status).toBe(200)

    await page.getByRole('link', { name: 'Invites' }).click()
    await page.getByLabel('Uses per code').fill('3')
    await page.getByRole('button', { name: 'Create invite codes' }).click()
    const created = (await page.getByRole('status').textContent()) ?? ''
    const code = /Created (\S+)/.exec(created)?.[1]
    expect(code).toBeTruthy()
    await page.getByRole('cell', { name: code!, exact: true }).waitFor()
    await shot('invites')

    await page.getByRole('link', { name: 'Federation' }).click()
    await page.getByRole('heading', { name: 'relay.invalid' }).waitFor()
    await page.getByText('Not checked yet').waitFor()
    // The relay doctor's run: a relay that may not be called is reported, not fetched.
    await runCronNow(server)
    const warning = page.getByText('The relay could not be asked: not a public hostname')
    await expect
      .poll(async () => (await page.reload()) && warning.count(), { timeout: 15_000 })
      .toBe(1)
    expect(await page.getByText('State at the relay: not reached').count()).toBe(1)
    await shot('federation')

    // The same run measured the repos: the overview's storage shows their blocks.
    await page.getByRole('link', { name: 'Overview' }).click()
    const repoBlocks = page.getByRole('row', { name: /Repo blocks/ })
    expect(await repoBlocks.textContent()).toMatch(
      /Repo blocks\s*[1-9]\d* blocks, [\d.]+ (B|KiB|MiB)$/,
    )
    await shot('overview-measured')
  })

  it('refuses a form without the session CSRF token', async () => {
    const cookie = (await page.context().cookies()).find((c) => c.name === 'pds_admin')
    const res = await fetch(`${server.pdsUrl}/admin/invites/create`, {
      method: 'POST',
      headers: {
        cookie: `pds_admin=${cookie?.value}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'uses=1&count=1&csrf=forged',
      redirect: 'manual',
    })
    expect(res.status).toBe(403)
  })
})
