/** The account the profiling, A/B and replay benches read and write: one with `posts` posts made first. */
import type { XrpcClient } from './client.ts'

export type PostingAccount = {
  account: { did: string; accessJwt: string }
  /** Makes post number `i` through createRecord. */
  post(i: number): Promise<{ ms: number; body: { uri: string } }>
  /** The posts made first. */
  uris: string[]
}

export async function postingAccount(
  client: XrpcClient,
  name: string,
  posts = 200,
): Promise<PostingAccount> {
  const account = (
    await client.call<{ did: string; accessJwt: string }>('com.atproto.server.createAccount', {
      body: {
        handle: `${name}.test`,
        email: `${name}@example.com`,
        password: `${name}-password-1`,
      },
    })
  ).body
  const post = (i: number) =>
    client.call<{ uri: string }>('com.atproto.repo.createRecord', {
      token: account.accessJwt,
      body: {
        repo: account.did,
        collection: 'app.bsky.feed.post',
        record: {
          $type: 'app.bsky.feed.post',
          text: `Post ${i}`,
          createdAt: new Date().toISOString(),
        },
      },
    })
  const uris: string[] = []
  for (let i = 0; i < posts; i++) uris.push((await post(i)).body.uri)
  return { account, post, uris }
}

/** `batches` applyWrites commits of 200 posts each: large firehose events, like the workload's. */
export async function addPostBatches(
  client: XrpcClient,
  account: { did: string; accessJwt: string },
  batches: number,
): Promise<void> {
  for (let b = 0; b < batches; b++) {
    await client.call('com.atproto.repo.applyWrites', {
      token: account.accessJwt,
      body: {
        repo: account.did,
        writes: Array.from({ length: 200 }, (_, i) => ({
          $type: 'com.atproto.repo.applyWrites#create',
          collection: 'app.bsky.feed.post',
          value: {
            $type: 'app.bsky.feed.post',
            text: `Batch ${b} post ${i}`,
            createdAt: new Date().toISOString(),
          },
        })),
      },
    })
  }
}
