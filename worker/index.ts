/**
 * The Worker entry: the HTTP app and the Durable Object classes wrangler.toml binds.
 */
import { configProblem } from '../src/config.ts'
import { runScheduledJobs } from '../src/scheduled.ts'
import { createApp } from './app.ts'

export { AccountDurableObject } from './account-durable-object.ts'
export { SequencerDurableObject } from './sequencer-durable-object.ts'

const app = createApp()

export default {
  fetch: app.fetch,
  scheduled(controller, env, ctx) {
    if (configProblem(env)) return
    ctx.waitUntil(runScheduledJobs(env, new Date(controller.scheduledTime)))
  },
} satisfies ExportedHandler<Env>
