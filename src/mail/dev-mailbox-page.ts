/**
 * The development mailbox's pages (`PDS_MAILER=dev` only; 404 otherwise): `/dev/mailbox` lists
 * what the local PDS sent (newest first, `?to=` to filter), `/dev/mailbox/<id>` shows one mail,
 * and `/dev/mailbox/messages?to=` gives the same as JSON for scripts and tests.
 */
import type { Config } from '../config.ts'
import { type DevMailRow, getDevMail, listDevMail } from '../db/dev-mail.ts'
import type { Db } from '../db/index.ts'
import { escapeHtml as esc } from './compose.ts'
import { DEV_MAILBOX_PATH } from './dev-mailbox.ts'

const LIST_LIMIT = 100
/** Our pages run no script and load nothing; a mail's HTML is shown in a sandboxed frame. */
const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-src 'self'",
  'cache-control': 'no-store',
}

export function devMailboxEnabled(config: Config): boolean {
  return config.devMode && config.mail?.mailer === 'dev'
}

export async function serveDevMailbox(request: Request, db: Db): Promise<Response> {
  const url = new URL(request.url)
  const rest = url.pathname.slice(DEV_MAILBOX_PATH.length).replace(/^\/+|\/+$/g, '')
  const to = url.searchParams.get('to') ?? undefined
  if (rest === '')
    return page(
      'Development mailbox',
      listHtml(await listDevMail(db, { to, limit: LIST_LIMIT }), to),
    )
  if (rest === 'messages') {
    const rows = await listDevMail(db, { to, limit: LIST_LIMIT })
    return Response.json(
      { messages: rows.map(messageJson) },
      { headers: { 'cache-control': 'no-store' } },
    )
  }
  const id = /^\d{1,15}$/.test(rest) ? Number(rest) : null
  const row = id === null ? null : await getDevMail(db, id)
  if (!row) return Response.json({ error: 'NotFound', message: 'No such mail' }, { status: 404 })
  return page(row.subject, mailHtml(row))
}

function messageJson(row: DevMailRow) {
  return {
    id: row.id,
    messageId: row.messageId,
    date: row.sentAt,
    from: row.fromAddress,
    to: row.toAddress,
    subject: row.subject,
    text: row.text,
    html: row.html,
  }
}

function page(title: string, body: string): Response {
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:sans-serif;margin:2em;max-width:60em}td,th{padding:.3em .8em;text-align:left}
pre{background:#f4f4f4;padding:1em;white-space:pre-wrap}iframe{width:100%;height:28em;border:1px solid #ccc}</style>
</head><body>${body}</body></html>`
  return new Response(html, { headers: PAGE_HEADERS })
}

function listHtml(rows: DevMailRow[], to: string | undefined): string {
  const items = rows
    .map(
      (row) =>
        `<tr><td>${esc(row.sentAt)}</td><td>${esc(row.toAddress)}</td><td><a href="${DEV_MAILBOX_PATH}/${row.id}">${esc(row.subject)}</a></td></tr>`,
    )
    .join('\n')
  const filter = to ? ` to ${esc(to)}` : ''
  return `<h1>Development mailbox${filter}</h1>
<p>Mail this local PDS sent (PDS_MAILER=dev). Nothing left the machine.</p>
${rows.length ? `<table><tr><th>date</th><th>to</th><th>subject</th></tr>${items}</table>` : '<p>No mail yet.</p>'}`
}

function mailHtml(row: DevMailRow): string {
  return `<p><a href="${DEV_MAILBOX_PATH}">All mail</a></p>
<table>
<tr><th>Date</th><td>${esc(new Date(row.sentAt).toUTCString())}</td></tr>
<tr><th>Message-ID</th><td>${esc(row.messageId)}</td></tr>
<tr><th>From</th><td>${esc(row.fromAddress)}</td></tr>
<tr><th>To</th><td>${esc(row.toAddress)}</td></tr>
<tr><th>Subject</th><td>${esc(row.subject)}</td></tr>
</table>
<h2>Text</h2><pre>${esc(row.text)}</pre>
<h2>HTML</h2><iframe sandbox title="HTML part" srcdoc="${esc(row.html)}"></iframe>`
}
