/**
 * `npm run pds`, the operator CLI, against the PDS that `npm run dev` runs (test/e2e's global
 * setup): the admin password comes from `.dev.vars` as it does for an operator at home.
 * Commands over `com.atproto.admin.*` methods run once the server has them; until then their
 * tests are skipped, named as such.
 */
import { spawn } from 'node:child_process'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { AtpAgent } from '@atproto/api'
import { describe, expect, inject, it } from 'vitest'
import { freePort } from './dev-server.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))
const pdsUrl = inject('pdsUrl')

interface Run {
  code: number
  stdout: string
  stderr: string
}

function pds(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [`${root}/cli/pds/index.ts`, ...args], {
      cwd: root,
      env: { ...process.env, PDS_URL: pdsUrl, PDS_ADMIN_PASSWORD: '', ...env },
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }))
  })
}

async function json<T>(args: string[]): Promise<T> {
  const run = await pds([...args, '--json'])
  expect(run.code, run.stderr).toBe(0)
  return JSON.parse(run.stdout) as T
}

const handle = (prefix: string) => `${prefix}${Math.random().toString(36).slice(2, 8)}.test`

/** Whether this server has the admin account methods (com.atproto.admin.*). */
const hasAdmin =
  (await fetch(`${pdsUrl}/xrpc/com.atproto.admin.getAccountInfo?did=did:plc:x`)).status !== 501

describe('npm run pds', () => {
  it('status: health, version, server, account counts, mailer and relays', async () => {
    const run = await pds(['status'])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toMatch(/^health:\s+ok$/m)
    expect(run.stdout).toMatch(/^version:\s+\d+\.\d+\.\d+/m)
    expect(run.stdout).toMatch(/^handle domains:\s+\.test$/m)
    expect(run.stdout).toMatch(/^accounts:\s+\d+ \(\d+ active/m)
    expect(run.stdout).toMatch(/^relays:\s+none$/m)
    const status = await json<{
      health: string
      accounts: { total: number }
      server: { did: string }
    }>(['status'])
    expect(status.health).toBe('ok')
    expect(status.server.did).toBe('did:web:localhost')
    expect(status.accounts.total).toBeGreaterThanOrEqual(0)
  })

  it('account create (password generated, shown once), then list shows it', async () => {
    const name = handle('cli')
    const created = await json<{ did: string; handle: string; password: string }>([
      'account',
      'create',
      '--handle',
      name,
      '--email',
      `${name}@example.com`,
    ])
    expect(created.handle).toBe(name)
    expect(created.did).toMatch(/^did:plc:/)
    // The generated password logs in.
    const agent = new AtpAgent({ service: pdsUrl })
    await agent.login({ identifier: name, password: created.password })
    expect(agent.session?.did).toBe(created.did)

    const table = await pds(['account', 'list'])
    expect(table.code, table.stderr).toBe(0)
    expect(table.stdout.split('\n')[0]).toMatch(/^DID\s+HANDLE\s+EMAIL\s+STATUS\s+CREATED$/)
    expect(table.stdout).toMatch(
      new RegExp(`${created.did}\\s+${name.replace(/\./g, '\\.')}\\s+.*active`),
    )
    const rows = await json<{ did: string; handle: string; status: string }[]>(['account', 'list'])
    expect(rows).toContainEqual(
      expect.objectContaining({ did: created.did, handle: name, status: 'active' }),
    )
  })

  it('invite create makes codes that sign up an account', async () => {
    const { codes } = await json<{ codes: string[] }>([
      'invite',
      'create',
      '--count',
      '2',
      '--uses',
      '1',
    ])
    expect(codes).toHaveLength(2)
    const agent = new AtpAgent({ service: pdsUrl })
    const name = handle('inv')
    await agent.createAccount({
      handle: name,
      email: `${name}@example.com`,
      password: 'pw-long-enough',
      inviteCode: codes[0],
    })
    expect(agent.session?.handle).toBe(name)
  })

  it('request-crawl asks each named relay to crawl this hostname', async () => {
    const seen: unknown[] = []
    const relay = createServer((req, res) => {
      let body = ''
      req.on('data', (c) => (body += c))
      req.on('end', () => {
        seen.push({ path: req.url, body: JSON.parse(body) })
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
      })
    })
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve))
    const origin = `http://127.0.0.1:${(relay.address() as AddressInfo).port}`
    try {
      const run = await pds(['request-crawl', origin])
      expect(run.code, run.stderr).toBe(0)
      expect(run.stdout).toMatch(new RegExp(`${origin}\\s+ok`))
      expect(seen).toEqual([
        { path: '/xrpc/com.atproto.sync.requestCrawl', body: { hostname: 'localhost' } },
      ])
    } finally {
      relay.close()
    }
  })

  it('a wrong admin password is a clear error (exit 3), not a stack trace', async () => {
    const run = await pds(['invite', 'create'], { PDS_ADMIN_PASSWORD: 'not-the-password' })
    expect(run.code).toBe(3)
    expect(run.stderr).toMatch(/^error: the PDS at .* refused the admin password/)
    expect(run.stderr).not.toContain('not-the-password')
  })

  it('an unreachable PDS is a clear error (exit 2)', async () => {
    const url = `http://127.0.0.1:${await freePort()}`
    const run = await pds(['status'], { PDS_URL: url })
    expect(run.code).toBe(2)
    expect(run.stderr).toBe(
      `error: cannot reach the PDS at ${url} (ECONNREFUSED); is it running? (PDS_URL)\n`,
    )
  })

  it('unknown commands and missing arguments say what is expected', async () => {
    expect((await pds(['acount', 'list'])).stderr).toMatch(/unknown command: acount/)
    expect((await pds(['account'])).stderr).toMatch(/account needs one of: list, create, info/)
    expect((await pds(['account', 'create'])).stderr).toMatch(/needs --handle and --email/)
    expect((await pds(['account', 'delete', 'did:plc:abc'])).stderr).toMatch(/add --yes to confirm/)
  })

  describe.skipIf(!hasAdmin)(
    'commands over com.atproto.admin.* (skipped until the server has them)',
    () => {
      it('info, takedown/untakedown, reset-password, update-handle, update-email, delete', async () => {
        const name = handle('adm')
        const { did } = await json<{ did: string }>([
          'account',
          'create',
          '--handle',
          name,
          '--email',
          `${name}@example.com`,
        ])

        const info = await json<{ did: string; handle: string; email: string; takedown: unknown }>([
          'account',
          'info',
          name,
        ])
        expect(info).toMatchObject({ did, handle: name, email: `${name}@example.com` })

        await json(['account', 'takedown', did, '--ref', 'spam'])
        expect(
          (await json<{ takedown: { applied: boolean } }>(['account', 'info', did])).takedown,
        ).toMatchObject({ applied: true })
        const listed = await json<{ did: string; status: string }[]>(['account', 'list'])
        expect(listed.find((r) => r.did === did)?.status).toBe('takendown')
        await json(['account', 'untakedown', did])
        expect(
          (await json<{ takedown: { applied: boolean } | null }>(['account', 'info', did])).takedown
            ?.applied ?? false,
        ).toBe(false)

        const { password } = await json<{ password: string }>(['account', 'reset-password', did])
        const agent = new AtpAgent({ service: pdsUrl })
        await agent.login({ identifier: did, password })

        const renamed = handle('ren')
        await json(['account', 'update-handle', did, renamed])
        await json(['account', 'update-email', did, `${renamed}@example.com`])
        expect(await json(['account', 'info', did])).toMatchObject({
          handle: renamed,
          email: `${renamed}@example.com`,
        })

        await json(['account', 'delete', did, '--yes'])
        const gone = await pds(['account', 'info', did])
        expect(gone.code).not.toBe(0)
      })

      it('invite list and disable', async () => {
        const { codes } = await json<{ codes: string[] }>(['invite', 'create'])
        const listed = await json<{ code: string; disabled: boolean }[]>(['invite', 'list'])
        expect(listed).toContainEqual(expect.objectContaining({ code: codes[0], disabled: false }))
        await json(['invite', 'disable', codes[0]!])
        const after = await json<{ code: string; disabled: boolean }[]>(['invite', 'list'])
        expect(after).toContainEqual(expect.objectContaining({ code: codes[0], disabled: true }))
      })
    },
  )
})
