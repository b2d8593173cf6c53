// The reference PDS (@atproto/pds from bench/node_modules) in its own Node process, so that the
// harness can read its memory from /proc. Configured entirely by PDS_* environment variables
// (bench/servers.ts sets them); prints one JSON line `{"ready": <port>}` once it listens.
//
// PDS_DEV_MODE=true is needed for a plain-http public URL and a loopback PLC directory, but it
// also makes the reference check every response against its Lexicon, which a production
// deployment never does. BENCH_REFERENCE_VALIDATE_RESPONSES=false (the bench's default) turns
// that check off again so that the figures are those of a production configuration.

import { envToCfg, envToSecrets, PDS, readEnv } from '@atproto/pds'
import { Server } from '@atproto/xrpc-server'

if (process.env.BENCH_REFERENCE_VALIDATE_RESPONSES === 'false') {
  // The XRPC server reads `this.options.validateResponse` when it registers each method
  // (responses and firehose messages alike): force it off as the options are stored.
  Object.defineProperty(Server.prototype, 'options', {
    configurable: true,
    get() {
      return this.benchOptions
    },
    set(value) {
      this.benchOptions = { ...value, validateResponse: false }
    },
  })
}

const env = readEnv()
const pds = await PDS.create(envToCfg(env), envToSecrets(env))
const server = await pds.start()
const address = server.address()
process.stdout.write(`${JSON.stringify({ ready: address.port })}\n`)

let stopping = false
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, async () => {
    if (stopping) return
    stopping = true
    try {
      await pds.destroy()
    } finally {
      process.exit(0)
    }
  })
}
