/**
 * Scheduled jobs that must not run side by side: `inOrder` chains them, and the relay doctor
 * runs before the hourly crawl refresh (a crawl requested just before the doctor's look made
 * it see a relay in the middle of a crawl).
 */
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { inOrder, relayJobs, type ScheduledJob, scheduledJobs } from '../../src/scheduled.ts'
import { crawlRefreshJob } from '../../src/sync/crawl-job.ts'
import { relayDoctorJob } from '../../src/sync/relay-doctor.ts'

describe('scheduled jobs in order', () => {
  it('runs each step after the previous one ended, goes on after a failure, then reports it', async () => {
    const log: string[] = []
    const step = (name: string, fails = false): ScheduledJob => ({
      name,
      async run() {
        log.push(`${name} start`)
        await new Promise((resolve) => setTimeout(resolve, 5))
        log.push(`${name} end`)
        if (fails) throw new Error(`${name} broke`)
      },
    })
    const chain = inOrder('chain', [step('a'), step('b', true), step('c')])
    await expect(chain.run(env, new Date())).rejects.toMatchObject({
      name: 'AggregateError',
      errors: [expect.objectContaining({ message: 'b broke' })],
    })
    expect(log).toEqual(['a start', 'a end', 'b start', 'b end', 'c start', 'c end'])
  })

  it('registers the relay doctor and the crawl refresh only as one chain, doctor first', () => {
    expect(scheduledJobs).toContain(relayJobs)
    expect(scheduledJobs).not.toContain(relayDoctorJob)
    expect(scheduledJobs).not.toContain(crawlRefreshJob)
    expect(relayJobs.steps).toEqual([relayDoctorJob, crawlRefreshJob])
  })
})
