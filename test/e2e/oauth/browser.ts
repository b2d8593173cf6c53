/**
 * The user's side of an authorization, in headless Chromium through our real pages: sign in,
 * consent, and the redirect to the app, whose URL is returned.
 */
import { mkdirSync } from 'node:fs'
import { type Browser, chromium, type Page } from 'playwright-core'

export const SCREENSHOTS = new URL('../../screenshots/', import.meta.url).pathname

export async function launchBrowser(): Promise<Browser> {
  mkdirSync(SCREENSHOTS, { recursive: true })
  return chromium.launch({ executablePath: '/usr/bin/chromium', headless: true })
}

export interface ApproveOptions {
  identifier: string
  password: string
  /** Where the app's redirect goes: the first request there is the answer. */
  redirectPrefix: string
  /** Saves `<name>-sign-in.png` and `<name>-consent.png`. */
  screenshots?: string
  decision?: 'Allow' | 'Deny'
}

/** Walks the pages from `authorizeUrl`; the URL the browser was finally sent to. */
export async function approveInBrowser(
  browser: Browser,
  authorizeUrl: string,
  opts: ApproveOptions,
): Promise<URL> {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } })
  const page = await context.newPage()
  page.setDefaultTimeout(15_000)
  try {
    const redirected = catchRedirect(page, opts.redirectPrefix)
    const opened = await page.goto(authorizeUrl)
    if (opened?.status() !== 200) {
      throw new Error(`authorize page: ${opened?.status()} ${await opened?.text()}`)
    }
    await page.getByLabel('Handle or email').fill(opts.identifier)
    await page.getByLabel('Password').fill(opts.password)
    if (opts.screenshots) {
      await page.screenshot({
        path: `${SCREENSHOTS}${opts.screenshots}-sign-in.png`,
        fullPage: true,
      })
    }
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page
      .getByRole('heading', { name: 'Allow access?' })
      .waitFor({ timeout: 15_000 })
      .catch(async (err) => {
        throw new Error(
          `no consent page after signing in: ${await page.locator('main').textContent()}`,
          {
            cause: err,
          },
        )
      })
    if (opts.screenshots) {
      await page.screenshot({
        path: `${SCREENSHOTS}${opts.screenshots}-consent.png`,
        fullPage: true,
      })
    }
    await page.getByRole('button', { name: opts.decision ?? 'Allow' }).click()
    return await redirected
  } finally {
    await context.close()
  }
}

/**
 * The first request to `prefix`: the redirect to the app. Seen as the browser sends it (no
 * app needs to listen there).
 */
function catchRedirect(page: Page, prefix: string): Promise<URL> {
  return new Promise((resolve) => {
    page.on('request', (request) => {
      if (request.url().startsWith(prefix)) resolve(new URL(request.url()))
    })
  })
}
