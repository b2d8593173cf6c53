/**
 * Runs what a deploy uploaded to the Cloudflare API stand-in, in a real workerd (miniflare):
 * the uploaded modules with the uploaded bindings, vars and secrets. A live check against it
 * proves the upload would serve, e.g. that the secrets make it leave its NotConfigured state.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { convertV4MiniflareOptions, Miniflare, type V4MiniflareOptions } from 'miniflare'
import type { UploadedScript } from './cloudflare-stand-in.ts'

interface Binding {
  type: string
  name: string
  text?: string
  class_name?: string
}

export function miniflareFor(script: UploadedScript): Miniflare {
  const meta = script.metadata as {
    main_module: string
    bindings: Binding[]
    compatibility_date?: string
    compatibility_flags?: string[]
  }
  const bindings: Record<string, string> = {}
  const durableObjects: Record<string, { className: string; useSQLite: boolean }> = {}
  const d1Databases: string[] = []
  const r2Buckets: string[] = []
  for (const b of meta.bindings) {
    if (b.type === 'plain_text' || b.type === 'secret_text') bindings[b.name] = b.text ?? ''
    else if (b.type === 'durable_object_namespace') {
      durableObjects[b.name] = { className: b.class_name!, useSQLite: true }
    } else if (b.type === 'd1') d1Databases.push(b.name)
    else if (b.type === 'r2_bucket') r2Buckets.push(b.name)
  }
  for (const [name, value] of script.secrets) bindings[name] = value
  const modules = [...script.modules]
    .filter(([path]) => path.endsWith('.js'))
    .map(([path, contents]) => ({ type: 'ESModule' as const, path, contents }))
  // The entry module first: miniflare takes the first as the main one.
  modules.sort((a, b) => Number(b.path === meta.main_module) - Number(a.path === meta.main_module))
  const options = {
    // No internet: do not fetch the `Request.cf` sample.
    cf: false,
    workers: [
      {
        name: 'uploaded',
        modules,
        compatibilityDate: meta.compatibility_date ?? '2026-11-01',
        compatibilityFlags: meta.compatibility_flags ?? [],
        bindings,
        durableObjects,
        d1Databases,
        r2Buckets,
      },
    ],
  } as V4MiniflareOptions
  return new Miniflare(convertV4MiniflareOptions(options))
}

/**
 * A loopback origin standing for the deployed hostname: each request goes to the Worker most
 * recently uploaded as `name` (restarted when a deploy uploads a new one or changes a secret).
 */
export async function serveUploadedWorker(
  scripts: Map<string, UploadedScript>,
  name: string,
): Promise<{ url: string; close(): Promise<void> }> {
  let running: { key: string; mf: Miniflare } | null = null
  const current = async (): Promise<Miniflare | null> => {
    const script = scripts.get(name)
    if (!script) return null
    const key = `${script.modifiedOn}:${[...script.secrets.values()].join(',')}`
    if (running?.key !== key) {
      await running?.mf.dispose()
      running = { key, mf: miniflareFor(script) }
    }
    return running.mf
  }
  const server = createServer(async (req, res) => {
    const mf = await current()
    if (!mf) {
      res.writeHead(502).end('nothing deployed')
      return
    }
    const answer = await mf.dispatchFetch(`https://${req.headers.host}${req.url}`)
    res.writeHead(answer.status, Object.fromEntries(answer.headers))
    res.end(Buffer.from(await answer.arrayBuffer()))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      await running?.mf.dispose()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
