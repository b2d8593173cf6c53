/**
 * The migration tests' tools: an account worth moving (records of several collections, blobs
 * including a large video, preferences), the migrate command run as a user runs it (answering
 * its PLC-token question, or killed after a given step), the destination checked independently
 * of the command, and a relay's firehose consumer on each PDS.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { AtpAgent } from '@atproto/api'
import { type IdentityResolverOpts, IdResolver } from '@atproto/identity'
import { verifyRepoCar } from '@atproto/repo'
import { type Event, Firehose } from '@atproto/sync'

const root = fileURLToPath(new URL('../..', import.meta.url))

export const MIGRATION_PASSWORD = 'migration test password 1'

export interface SeedOptions {
  records: number
  /** Blobs in all, the video included. */
  blobs: number
  videoBytes: number
}

export interface SeededAccount {
  did: string
  handle: string
  /** `collection/rkey` → record CID. */
  records: Map<string, string>
  /** CID → SHA-256 of the bytes. */
  blobs: Map<string, string>
  preferences: unknown[]
}

/** Records spread over four collections; the blobs hang off posts (the video as a video embed). */
export async function seedAccount(pdsUrl: string, opts: SeedOptions): Promise<SeededAccount> {
  const agent = new AtpAgent({ service: pdsUrl })
  const handle = `mig${randomBytes(4).toString('hex')}.test`
  await agent.createAccount({
    handle,
    email: `${handle}@example.com`,
    password: MIGRATION_PASSWORD,
  })
  const did = agent.session!.did
  const blobs = new Map<string, string>()
  const writes: Record<string, unknown>[] = []
  const create = (collection: string, value: Record<string, unknown>, rkey?: string) =>
    writes.push({
      $type: 'com.atproto.repo.applyWrites#create',
      collection,
      ...(rkey ? { rkey } : {}),
      value: { $type: collection, ...value },
    })
  const createdAt = new Date().toISOString()

  for (let i = 0; i < opts.blobs; i++) {
    const video = i === 0
    const bytes = video
      ? randomBytes(opts.videoBytes)
      : // A PNG signature, so that servers sniffing the type agree with the declared one.
        Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), randomBytes(20_000 + i * 5_000)])
    const { data } = await agent.com.atproto.repo.uploadBlob(bytes, {
      encoding: video ? 'video/mp4' : 'image/png',
    })
    blobs.set(data.blob.ref.toString(), sha256(bytes))
    create('app.bsky.feed.post', {
      text: `blob ${i}`,
      createdAt,
      embed: video
        ? { $type: 'app.bsky.embed.video', video: data.blob }
        : { $type: 'app.bsky.embed.images', images: [{ image: data.blob, alt: `image ${i}` }] },
    })
  }
  create('app.bsky.actor.profile', { displayName: 'Migrating' }, 'self')
  const rest = opts.records - writes.length
  for (let i = 0; i < rest; i++) {
    const kind = i % 3
    if (kind === 0) create('app.bsky.feed.post', { text: `post ${i}`, createdAt })
    else if (kind === 1) {
      create('app.bsky.feed.like', {
        subject: {
          uri: `at://${did}/app.bsky.feed.post/3l${String(i).padStart(11, 'a')}`,
          cid: 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm',
        },
        createdAt,
      })
    } else create('app.bsky.graph.follow', { subject: `did:plc:${fakeId(i)}`, createdAt })
  }
  for (let i = 0; i < writes.length; i += 200) {
    await agent.com.atproto.repo.applyWrites({
      repo: did,
      writes: writes.slice(i, i + 200) as never,
    })
  }

  const preferences = [
    { $type: 'app.bsky.actor.defs#adultContentPref', enabled: true },
    {
      $type: 'app.bsky.actor.defs#savedFeedsPrefV2',
      items: [{ id: '3l6ovcmm2vd2j', type: 'timeline', value: 'following', pinned: true }],
    },
    { $type: 'app.bsky.actor.defs#personalDetailsPref', birthDate: '1990-04-01T00:00:00.000Z' },
    { $type: 'app.bsky.actor.defs#threadViewPref', sort: 'oldest' },
  ]
  await agent.app.bsky.actor.putPreferences({ preferences: preferences as never })

  const records = new Map<string, string>()
  const car = await fetchBytes(`${pdsUrl}/xrpc/com.atproto.sync.getRepo?did=${did}`)
  for (const c of (await verifyRepoCar(car, did)).creates) {
    records.set(`${c.collection}/${c.rkey}`, c.cid.toString())
  }
  return { did, handle, records, blobs, preferences }
}

function fakeId(i: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567'
  let out = ''
  for (let n = i + 1_000_000; out.length < 24; n = Math.floor(n / 7) + 13) out += alphabet[n % 32]
  return out
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

async function fetchBytes(url: string, init?: RequestInit): Promise<Uint8Array> {
  const res = await fetch(url, init)
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`)
  return new Uint8Array(await res.arrayBuffer())
}

export interface MigrateRun {
  code: number | null
  signal: NodeJS.Signals | null
  output: string
}

export interface MigrateOptions {
  /** Answers the command's question for the PLC token (the test reads it where the user would). */
  plcToken?: () => Promise<string>
  /** Kills the command (SIGKILL, a crash) as soon as this step has started. */
  killAtStep?: string
  env?: Record<string, string>
  timeoutMs?: number
}

/** `npm run migrate -- <args>`, as a user runs it, its answers typed on standard input. */
export function runMigrate(args: string[], opts: MigrateOptions = {}): Promise<MigrateRun> {
  const child = spawn(
    process.execPath,
    ['--experimental-strip-types', '--no-warnings', 'scripts/migrate/main.ts', ...args],
    {
      cwd: root,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: {
        ...withoutPdsVars(process.env),
        MIGRATE_OLD_PASSWORD: MIGRATION_PASSWORD,
        MIGRATE_NEW_PASSWORD: MIGRATION_PASSWORD,
        ...opts.env,
      },
    },
  )
  let output = ''
  let asked = false
  const onOutput = (chunk: Buffer): void => {
    output += String(chunk)
    if (opts.killAtStep && output.includes(`] ${opts.killAtStep}\n`)) child.kill('SIGKILL')
    if (!asked && opts.plcToken && output.includes('PLC token from the old PDS:')) {
      asked = true
      opts.plcToken().then(
        (token) => child.stdin?.write(`${token}\n`),
        (err: Error) => {
          output += `\n[test] no PLC token: ${err.message}\n`
          child.kill('SIGKILL')
        },
      )
    }
  }
  child.stdout.on('data', onOutput)
  child.stderr.on('data', onOutput)
  return waitForExit(child, () => output, opts.timeoutMs ?? 240_000)
}

function waitForExit(
  child: ChildProcess,
  output: () => string,
  timeoutMs: number,
): Promise<MigrateRun> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, output: output() })
    })
  })
}

function withoutPdsVars(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([key]) => !key.startsWith('MIGRATE_')))
}

/** The PLC token our PDS made for the account, as its operator reads it (no email yet). */
export async function ourPlcToken(pdsUrl: string, adminPassword: string, did: string) {
  const res = await fetch(`${pdsUrl}/xrpc/dev.edgepds.admin.getAccountTokens?did=${did}`, {
    headers: { authorization: `Basic ${btoa(`admin:${adminPassword}`)}` },
  })
  if (!res.ok) throw new Error(`getAccountTokens: ${res.status} ${await res.text()}`)
  const { tokens } = (await res.json()) as {
    tokens: { purpose: string; token: string; requestedAt: string }[]
  }
  const plc = tokens
    .filter((t) => t.purpose.includes('plc'))
    .sort((a, b) => b.requestedAt.localeCompare(a.requestedAt))
  if (!plc[0]) throw new Error(`no PLC token for ${did}: ${JSON.stringify(tokens)}`)
  return plc[0].token
}

/**
 * The destination, checked without the command's help: the PLC document names it and its
 * key, its repo verifies with `@atproto/repo` against that key and holds exactly the seeded
 * records, every blob is served with its bytes, the preferences are those put.
 */
export async function expectAccountOn(
  pdsUrl: string,
  plcUrl: string,
  account: SeededAccount,
): Promise<string[]> {
  const problems: string[] = []
  const { pds: endpoint, signingKey: key } = await resolver(plcUrl).did.resolveAtprotoData(
    account.did,
    true,
  )
  if (endpoint !== pdsUrl) problems.push(`PLC names ${endpoint}, not ${pdsUrl}`)

  const car = await fetchBytes(`${pdsUrl}/xrpc/com.atproto.sync.getRepo?did=${account.did}`)
  try {
    const verified = await verifyRepoCar(car, account.did, key)
    const got = new Map(
      verified.creates.map((c) => [`${c.collection}/${c.rkey}`, c.cid.toString()]),
    )
    if (got.size !== account.records.size) {
      problems.push(`${got.size} records, expected ${account.records.size}`)
    }
    for (const [path, cid] of account.records) {
      if (got.get(path) !== cid) problems.push(`record ${path}: ${got.get(path)} != ${cid}`)
    }
  } catch (err) {
    problems.push(`repo does not verify with the PLC key ${key}: ${(err as Error).message}`)
  }

  for (const [cid, hash] of account.blobs) {
    const bytes = await fetchBytes(
      `${pdsUrl}/xrpc/com.atproto.sync.getBlob?did=${account.did}&cid=${cid}`,
    ).catch((err: Error) => {
      problems.push(`blob ${cid}: ${err.message.slice(0, 200)}`)
      return null
    })
    if (bytes && sha256(bytes) !== hash) problems.push(`blob ${cid}: other bytes`)
  }

  const agent = new AtpAgent({ service: pdsUrl })
  await agent.login({ identifier: account.did, password: MIGRATION_PASSWORD })
  const { data } = await agent.app.bsky.actor.getPreferences()
  const stored = data.preferences
    .filter((p) => p.$type !== 'app.bsky.actor.defs#declaredAgePref')
    .map((p) => JSON.stringify(sortKeys(p)))
    .sort()
  const expected = account.preferences.map((p) => JSON.stringify(sortKeys(p))).sort()
  if (JSON.stringify(stored) !== JSON.stringify(expected)) {
    problems.push(`preferences differ: ${JSON.stringify(stored)}`)
  }
  return problems
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, sortKeys(v)]),
    )
  }
  return value
}

function resolver(plcUrl: string): IdResolver {
  return new IdResolver({
    plcUrl,
    // The default fetch refuses loopback addresses; the local directory is one.
    fetch: globalThis.fetch as IdentityResolverOpts['fetch'],
  })
}

export interface FirehoseWatch {
  events: Event[]
  errors: Error[]
  stop(): Promise<void>
}

/** A relay's consumer (`@atproto/sync`: signatures, proofs, identities) from the start. */
export function watchFirehose(pdsUrl: string, plcUrl: string): FirehoseWatch {
  const events: Event[] = []
  const errors: Error[] = []
  const firehose = new Firehose({
    service: pdsUrl.replace(/^http/, 'ws'),
    idResolver: resolver(plcUrl),
    getCursor: () => 0,
    handleEvent: (evt) => {
      events.push(evt)
    },
    onError: (err) => {
      errors.push(err)
    },
  })
  void firehose.start()
  return { events, errors, stop: () => firehose.destroy() }
}
