/** The admin page's views: plain functions from data to markup (src/admin/html.ts). */
import type { AccountRow } from '../db/accounts.ts'
import type { InviteCodeWithUses } from '../db/invites.ts'
import type { RelayReport } from '../sync/relay-report.ts'
import { barChart, formatBytes, type Html, html, lineChart } from './html.ts'
import type { RepoBlockTotals } from './repo-sizes.ts'
import type { DailyStat, StorageTotals } from './stats.ts'
import { writesPerDay } from './stats.ts'

export function flash(message: { kind: 'notice' | 'error'; text: string } | null): Html {
  if (!message) return html``
  return html`<p class="${message.kind}" role="${message.kind === 'error' ? 'alert' : 'status'}">${message.text}</p>`
}

export function loginView(error: string | null): Html {
  return html`${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<section><form method="post" action="/admin/login">
<label for="password">Admin password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button></form></section>`
}

export function overviewView(data: {
  statuses: { status: string; count: number }[]
  storage: StorageTotals
  window: { oldestSeq: number | null; latestSeq: number }
  retentionHours: number
  days: DailyStat[]
  mailer: string
}): Html {
  const { storage, window } = data
  return html`<section><h2>Accounts</h2><table><tbody>
${data.statuses.map((s) => html`<tr><th scope="row">${s.status}</th><td>${s.count}</td></tr>`)}
${data.statuses.length === 0 ? html`<tr><td>No accounts yet.</td></tr>` : ''}
</tbody></table></section>
<section><h2>Writes per day</h2>${barChart('Firehose events per day', writesPerDay(data.days))}</section>
<section><h2>Storage</h2><table><tbody>
<tr><th scope="row">Record index</th><td>${storage.records} records, ${formatBytes(storage.recordBytes)}</td></tr>
<tr><th scope="row">Blobs</th><td>${storage.blobs} blobs, ${formatBytes(storage.blobBytes)}</td></tr>
<tr><th scope="row">Repo blocks</th><td>${repoBlocksLine(storage.repoBlocks)}</td></tr>
</tbody></table>
${lineChart(
  'Stored bytes (record index, repo blocks and blobs) per day',
  data.days.map((d) => ({ label: d.day, value: d.recordBytes + d.blockBytes + d.blobBytes })),
  formatBytes,
)}</section>
<section><h2>Firehose</h2><p>Replay window: seq ${window.oldestSeq ?? '—'} to ${window.latestSeq}
(events kept ${data.retentionHours} hours).</p></section>
<section><h2>Mailer</h2><p>${data.mailer}</p></section>`
}

function repoBlocksLine(totals: RepoBlockTotals): Html {
  const line = html`${totals.blocks} blocks, ${formatBytes(totals.bytes)}`
  if (totals.measured >= totals.repos) return line
  return html`${line} <span class="muted">(${totals.measured} of ${totals.repos} repos measured so far; the Cron Trigger measures the rest)</span>`
}

export interface AccountLine {
  account: AccountRow
  blobBytes: number
  repoBlocks: number | null
  lastCommit: { rev: string; at: string } | null
}

export function accountsView(opts: {
  query: string
  lines: AccountLine[]
  next: string | undefined
  csrf: string
}): Html {
  const { csrf } = opts
  const action = (did: string, name: string, label: string, danger = false) =>
    html`<form class="inline" method="post" action="/admin/accounts/action">
<input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="did" value="${did}">
<input type="hidden" name="action" value="${name}"><button${danger ? html` class="danger"` : ''}>${label}</button></form> `
  const rows = opts.lines.map(({ account, blobBytes, repoBlocks, lastCommit }) => {
    const down = account.status === 'takendown'
    return html`<tr>
<td><strong>${account.handle}</strong><br><span class="muted">${account.did}</span><br>${account.email ?? ''}</td>
<td>${account.status}${account.invitesDisabled ? html`<br><span class="muted">invites off</span>` : ''}</td>
<td>${repoBlocks ?? '—'} blocks<br>${formatBytes(blobBytes)} blobs</td>
<td>${lastCommit ? html`${lastCommit.at}<br><span class="muted">rev ${lastCommit.rev}</span>` : '—'}</td>
<td>${down ? action(account.did, 'restore', `Restore ${account.handle}`) : action(account.did, 'takedown', `Take down ${account.handle}`, true)}
${action(account.did, 'reset-password', 'Reset password')}
${account.invitesDisabled ? action(account.did, 'enable-invites', 'Enable invites') : action(account.did, 'disable-invites', 'Disable invites')}
<form class="inline" method="post" action="/admin/accounts/action">
<input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="did" value="${account.did}">
<input type="hidden" name="action" value="delete">
<label>Type the handle to delete <input name="confirm" autocomplete="off" aria-label="Type ${account.handle} to confirm deletion"></label>
<button class="danger">Delete</button></form></td></tr>`
  })
  return html`<section><form method="get" action="/admin/accounts" role="search">
<label for="q">Search by handle, DID or email</label>
<input id="q" name="q" value="${opts.query}"> <button>Search</button></form></section>
<section class="scroll"><table><thead><tr><th scope="col">Account</th><th scope="col">Status</th>
<th scope="col">Storage</th><th scope="col">Last commit</th><th scope="col">Actions</th></tr></thead>
<tbody>${rows}${opts.lines.length === 0 ? html`<tr><td colspan="5">No accounts match.</td></tr>` : ''}</tbody></table>
${opts.next ? html`<p><a href="/admin/accounts?q=${encodeURIComponent(opts.query)}&amp;cursor=${encodeURIComponent(opts.next)}">Next page</a></p>` : ''}</section>`
}

export function invitesView(opts: {
  codes: InviteCodeWithUses[]
  csrf: string
  next?: string
}): Html {
  const rows = opts.codes.map(
    (c) => html`<tr><td><code>${c.code}</code></td><td>${c.forAccount}</td>
<td>${c.uses.length} / ${c.availableUses}</td><td>${c.disabled ? 'disabled' : 'active'}</td><td>${c.createdAt}</td>
<td>${
      c.disabled
        ? ''
        : html`<form class="inline" method="post" action="/admin/invites/disable">
<input type="hidden" name="csrf" value="${opts.csrf}"><input type="hidden" name="code" value="${c.code}">
<button>Disable ${c.code}</button></form>`
    }</td></tr>`,
  )
  return html`<section><h2>Create</h2><form method="post" action="/admin/invites/create">
<input type="hidden" name="csrf" value="${opts.csrf}">
<label for="uses">Uses per code</label><input id="uses" name="uses" type="number" min="1" max="100000" value="1" required>
<label for="count">Number of codes</label><input id="count" name="count" type="number" min="1" max="100" value="1" required>
<button>Create invite codes</button></form></section>
<section class="scroll"><h2>Codes</h2><table><thead><tr><th scope="col">Code</th><th scope="col">For</th>
<th scope="col">Used</th><th scope="col">State</th><th scope="col">Created</th><th scope="col">Action</th></tr></thead>
<tbody>${rows}${opts.codes.length === 0 ? html`<tr><td colspan="6">No invite codes yet.</td></tr>` : ''}</tbody></table>
${opts.next ? html`<p><a href="/admin/invites?cursor=${opts.next}">Older codes</a></p>` : ''}</section>`
}

export function federationView(opts: {
  relays: string[]
  reports: Map<string, { checkedAt: string; report: RelayReport }>
}): Html {
  if (opts.relays.length === 0) {
    return html`<section><p>No relays are configured (PDS_CRAWLERS).</p></section>`
  }
  return html`${opts.relays.map((relay) => {
    const found = opts.reports.get(relay)
    if (!found) {
      return html`<section><h2>${relay}</h2><p class="muted">Not checked yet: the relay doctor runs with the Cron Trigger.</p></section>`
    }
    const r = found.report
    const seqNote =
      r.relaySeq !== null && r.relaySeq > r.ourSeq ? html` <strong>(ahead of ours)</strong>` : ''
    return html`<section><h2>${relay}</h2>
<p>Checked ${found.checkedAt}. State at the relay: <strong>${r.reachable ? (r.hostStatus ?? 'not given') : 'not reached'}</strong>.</p>
<table><tbody>
<tr><th scope="row">Our seq</th><td>${r.ourSeq}</td></tr>
<tr><th scope="row">The relay's seq for us</th><td>${r.relaySeq ?? '—'}${seqNote}</td></tr>
<tr><th scope="row">Accounts the relay counts</th><td>${r.accountCount ?? '—'} (we host ${r.ourAccounts} active; its limit ${r.accountLimit})</td></tr>
<tr><th scope="row">Sampled accounts in sync</th><td>${r.inSync} of ${r.sampled}${r.throttled > 0 ? html`, ${r.throttled} throttled` : ''}</td></tr>
<tr><th scope="row">Out of sync</th><td>${r.outOfSync.length === 0 ? 'none' : html`<ul>${r.outOfSync.map((did) => html`<li>${did}</li>`)}</ul>`}</td></tr>
</tbody></table>
${r.warnings.map((w) => html`<p class="warn"><strong>Warning:</strong> ${w}</p>`)}
<h3>Last actions</h3>${
      r.actions.length === 0
        ? html`<p>None needed yet.</p>`
        : html`<ul>${r.actions.map((a) => html`<li><time datetime="${a.at}">${a.at}</time>: ${a.action}</li>`)}</ul>`
    }
</section>`
  })}`
}
