/**
 * Server-rendered pages of the authorization server: plain HTML forms (no script at all),
 * one stylesheet, and headers that keep them out of frames (`frame-ancestors 'none'`), out
 * of caches and referrers (the URL carries a `request_uri`), with a CSP that allows nothing
 * but our stylesheet, images, and form posts to ourselves (and, after consent, the client's
 * redirect origin, which Chromium checks on the redirect a form post gets).
 */

import { escapeHtml, Html, html } from '../../html.ts'

export { escapeHtml, Html, html }

export const STYLESHEET_PATH = '/oauth/style.css'

export interface PageOptions {
  title: string
  body: Html
  status?: number
  /** Origins, besides ours, a form on the page may end up at (the client's redirect). */
  formTargets?: string[]
  /** Whether http images may show (development: a loopback client's logo). */
  devMode?: boolean
  headers?: Record<string, string>
}

export function page(opts: PageOptions): Response {
  const formAction = ["'self'", ...(opts.formTargets ?? [])].join(' ')
  const csp = [
    "default-src 'none'",
    `style-src 'self'`,
    `img-src 'self' https: data:${opts.devMode ? ' http:' : ''}`,
    `form-action ${formAction}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ')
  const body = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>${opts.title}</title>
<link rel="stylesheet" href="${STYLESHEET_PATH}">
</head>
<body>
<main>
${opts.body}
</main>
</body>
</html>
`
  return new Response(body.value, {
    status: opts.status ?? 200,
    headers: {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy': csp,
      'X-Frame-Options': 'DENY',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': 'no-store',
      ...opts.headers,
    },
  })
}

export function stylesheet(): Response {
  return new Response(CSS, {
    headers: {
      'Content-Type': 'text/css; charset=utf-8',
      'Cache-Control': 'public, max-age=3600',
      'X-Content-Type-Options': 'nosniff',
    },
  })
}

export function messagePage(title: string, message: string, status = 400): Response {
  return page({ title, status, body: html`<h1>${title}</h1><p>${message}</p>` })
}

const CSS = `
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a;background:#f4f5f7}
main{max-width:28rem;margin:0 auto;padding:1.5rem 1rem}
h1{font-size:1.5rem;margin:0 0 1rem}
h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
label{display:block;font-weight:600;margin:.75rem 0 .25rem}
input[type=text],input[type=password],input[type=email]{width:100%;padding:.7rem;font:inherit;border:1px solid #767676;border-radius:.4rem;background:#fff}
input:focus,button:focus{outline:3px solid #1d4ed8;outline-offset:2px}
button{font:inherit;padding:.7rem 1rem;border-radius:.4rem;border:1px solid #1d4ed8;background:#1d4ed8;color:#fff;cursor:pointer;min-height:44px}
button.secondary{background:#fff;color:#1d4ed8}
.actions{display:flex;gap:.75rem;flex-wrap:wrap;margin-top:1.25rem}
.actions button{flex:1 1 8rem}
.card{background:#fff;border:1px solid #d0d4da;border-radius:.6rem;padding:1rem;margin:0 0 1rem}
.error{color:#a50e0e;background:#fdecea;border:1px solid #f5c2c0;border-radius:.4rem;padding:.6rem}
.client{display:flex;gap:.75rem;align-items:center}
.client img{width:48px;height:48px;border-radius:.4rem;object-fit:cover}
ul.permissions{padding-left:1.2rem}
ul.plain{list-style:none;padding:0}
ul.plain li{display:flex;justify-content:space-between;align-items:center;gap:.5rem;padding:.5rem 0;border-bottom:1px solid #eee}
.muted{color:#555;font-size:.9rem}
`
