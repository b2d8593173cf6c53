/**
 * The Worker entry: the HTTP app and the Durable Object classes wrangler.toml binds.
 */
import { createApp } from './app.ts'

export { AccountDurableObject } from './account-durable-object.ts'
export { SequencerDurableObject } from './sequencer-durable-object.ts'

const app = createApp()

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>
