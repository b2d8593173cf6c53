/**
 * HTML building for the admin page: escaping in one place (every interpolated value goes
 * through `html` tagged templates), the page frame, and small inline SVG charts.
 */

import { escapeHtml, Html, html } from '../html.ts'

export { escapeHtml, Html, html }

const STYLE = `
body{font:16px/1.45 system-ui,sans-serif;margin:0;color:#1b1b1b;background:#f6f7f9}
header{background:#14365d;color:#fff;padding:.6rem 1rem;display:flex;flex-wrap:wrap;gap:1rem;align-items:center}
header a{color:#fff}header nav{display:flex;flex-wrap:wrap;gap:.9rem}
main{max-width:60rem;margin:0 auto;padding:1rem}
section{background:#fff;border:1px solid #d8dde3;border-radius:6px;padding:1rem;margin-bottom:1rem}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35rem .4rem;border-bottom:1px solid #e4e7eb;vertical-align:top}
.scroll{overflow-x:auto}form.inline{display:inline}
button,input{font:inherit}button{padding:.25rem .6rem;margin:.1rem 0}
.danger{background:#a4161a;color:#fff;border:1px solid #7a1013}
.notice{background:#e6f4ea;border:1px solid #8cc79c;padding:.5rem;border-radius:4px}
.warn{background:#fff4e5;border:1px solid #f0b45b;padding:.5rem;border-radius:4px}
.error{background:#fdecea;border:1px solid #e38b85;padding:.5rem;border-radius:4px}
.muted{color:#5b6470}svg{max-width:100%;height:auto}
label{display:block;margin:.4rem 0}
@media (max-width:40rem){td,th{display:block;border:0}tr{display:block;border-bottom:1px solid #d8dde3;padding:.3rem 0}}
`

/** The Content-Security-Policy of every admin response: no script at all, this style only. */
export function adminCsp(nonce: string): string {
  return [
    "default-src 'none'",
    `style-src 'nonce-${nonce}'`,
    "img-src 'self' data:",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ')
}

export function page(opts: {
  title: string
  nonce: string
  body: Html
  signedIn: boolean
  csrf?: string
}): string {
  const nav = opts.signedIn
    ? html`<nav aria-label="Admin sections">
        <a href="/admin">Overview</a><a href="/admin/accounts">Accounts</a>
        <a href="/admin/invites">Invites</a><a href="/admin/federation">Federation</a>
      </nav>
      <form class="inline" method="post" action="/admin/logout">
        <input type="hidden" name="csrf" value="${opts.csrf ?? ''}"><button>Sign out</button>
      </form>`
    : ''
  return `<!doctype html>${html`<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>${opts.title} · PDS admin</title><style nonce="${opts.nonce}">${new Html(STYLE)}</style></head>
<body><header><strong>PDS admin</strong>${nav}</header>
<main id="main"><h1>${opts.title}</h1>${opts.body}</main></body></html>`}`
}

/** A bar chart of `points` (label, value), with a text alternative for screen readers. */
export function barChart(title: string, points: { label: string; value: number }[]): Html {
  if (points.length === 0) return html`<p class="muted">${title}: no data yet.</p>`
  const width = 600
  const height = 160
  const max = Math.max(1, ...points.map((p) => p.value))
  const barWidth = width / points.length
  const bars = points.map((p, i) => {
    const h = Math.round((p.value / max) * (height - 20))
    return html`<rect x="${(i * barWidth + 2).toFixed(1)}" y="${height - h}" width="${Math.max(1, barWidth - 4).toFixed(1)}" height="${h}" fill="#2f6db3"><title>${p.label}: ${p.value}</title></rect>`
  })
  const summary = points.map((p) => `${p.label}: ${p.value}`).join(', ')
  return html`<figure><svg viewBox="0 0 ${width} ${height}" role="img" aria-label="${title}: ${summary}">${bars}</svg>
<figcaption>${title} (latest ${points.at(-1)?.label}: ${points.at(-1)?.value}; highest ${max})</figcaption></figure>`
}

/** A line chart of `points`, the same way. */
export function lineChart(
  title: string,
  points: { label: string; value: number }[],
  format: (n: number) => string = String,
): Html {
  if (points.length === 0) return html`<p class="muted">${title}: no data yet.</p>`
  const width = 600
  const height = 160
  const max = Math.max(1, ...points.map((p) => p.value))
  const step = points.length > 1 ? width / (points.length - 1) : 0
  const coords = points
    .map(
      (p, i) =>
        `${(i * step).toFixed(1)},${(height - 10 - (p.value / max) * (height - 20)).toFixed(1)}`,
    )
    .join(' ')
  const summary = points.map((p) => `${p.label}: ${format(p.value)}`).join(', ')
  return html`<figure><svg viewBox="0 0 ${width} ${height}" role="img" aria-label="${title}: ${summary}"><polyline points="${coords}" fill="none" stroke="#2f6db3" stroke-width="3"/></svg>
<figcaption>${title} (latest ${points.at(-1)?.label}: ${format(points.at(-1)?.value ?? 0)})</figcaption></figure>`
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = n
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`
}
