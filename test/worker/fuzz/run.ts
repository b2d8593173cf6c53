/**
 * Sends fuzz requests to the Worker and checks the answer against the promise of issue #13:
 * a 4xx (501 only for methods we declare unimplemented) with a JSON `{error, message?}` body.
 */
import { SELF } from 'cloudflare:test'
import type { FuzzRequest } from './cases.ts'
import type { KnownFailure, ProbeKind } from './known-failures.ts'

export const BASE = 'http://localhost:2583'

export interface Outcome {
  status: number
  contentType: string
  text: string
  /** How long the answer took, in ms: a refusal should be quick. */
  ms: number
}

export interface Failure {
  nsid: string
  kind: ProbeKind
  label: string
  /** Which credential was sent: `none`, `session`, ... */
  auth: string
  problem: string
  outcome: Outcome | null
  request: FuzzRequest
}

export async function send(
  nsid: string,
  request: FuzzRequest,
  authorization: string | null,
): Promise<Outcome> {
  // One serialization: appending to url.searchParams re-serializes the query each time.
  const query = new URLSearchParams(request.query).toString()
  const url = `${BASE}${request.path ?? `/xrpc/${nsid}`}${query ? `?${query}` : ''}`
  const headers: Record<string, string> = {
    // The rate limits count per IP: keep fuzz traffic apart from the accounts the test sets up.
    'cf-connecting-ip': '203.0.113.13',
    ...request.headers,
  }
  if (authorization) headers.authorization = authorization
  const started = Date.now()
  const res = await SELF.fetch(url, {
    method: request.verb,
    headers,
    ...(request.body === undefined ? {} : { body: request.body }),
  })
  return {
    status: res.status,
    contentType: res.headers.get('content-type') ?? '',
    // Decoded by hand: res.text() on a CAR or a blob makes workerd warn.
    text: new TextDecoder().decode(await res.arrayBuffer()),
    ms: Date.now() - started,
  }
}

/** Any client error. */
export const CLIENT_ERROR = (status: number): boolean => status >= 400 && status <= 499

/** What is wrong with the answer, or null if it is an XRPC error with an accepted status. */
export function problemWith(outcome: Outcome, accept: (status: number) => boolean): string | null {
  if (!accept(outcome.status)) return `status ${outcome.status}`
  // A success accepted here (a blob, a part of one) is not an error body.
  if (outcome.status < 400) return null
  if (!/^application\/json\b/i.test(outcome.contentType)) {
    return `content-type ${JSON.stringify(outcome.contentType)}`
  }
  let body: unknown
  try {
    body = JSON.parse(outcome.text)
  } catch {
    return 'body is not JSON'
  }
  const { error, message } = (body ?? {}) as { error?: unknown; message?: unknown }
  if (typeof body !== 'object' || Array.isArray(body) || typeof error !== 'string') {
    return 'body has no `error` string'
  }
  if (message !== undefined && typeof message !== 'string') return '`message` is not a string'
  return null
}

export function matchesKnown(
  failure: Pick<Failure, 'nsid' | 'kind' | 'label'>,
  known: KnownFailure,
): boolean {
  const nsidMatches =
    typeof known.nsid === 'string' ? known.nsid === failure.nsid : known.nsid.test(failure.nsid)
  return nsidMatches && known.kind === failure.kind && (known.label?.test(failure.label) ?? true)
}

/** One failure, enough to reproduce it: the case, the request in short, the answer. */
export function describeFailure(failure: Failure): string {
  const { request, outcome } = failure
  const query = request.query.map(([k, v]) => `${k}=${short(v, 60)}`).join('&')
  const body =
    request.body === undefined
      ? 'no body'
      : typeof request.body === 'string'
        ? `body ${request.body.length} chars ${JSON.stringify(short(request.body, 120))}`
        : `body ${request.body.byteLength} bytes`
  const answer = outcome
    ? `${outcome.status} in ${outcome.ms} ms ${outcome.contentType} ${JSON.stringify(short(outcome.text, 300))}`
    : 'no answer'
  return [
    `${failure.nsid} [${failure.kind}] ${failure.label} (auth: ${failure.auth}): ${failure.problem}`,
    `    request: ${request.verb} ${request.path ?? ''}?${short(query, 200)} ${JSON.stringify(request.headers)} ${body}`,
    `    answer:  ${answer}`,
  ].join('\n')
}

function short(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…(${text.length})` : text
}
