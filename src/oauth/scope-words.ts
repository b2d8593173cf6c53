/**
 * The requested scopes in plain words for the consent page. Granular permissions are shown
 * as they are written when no sentence fits, never hidden: the user sees everything asked.
 */

const KNOWN: Record<string, string> = {
  atproto: 'Know which account you are (your DID and handle).',
  'transition:generic':
    'Act as you: read and write your posts, likes, follows and other records, and use other services as you (like an app password).',
  'transition:email': 'See your email address and whether it is confirmed.',
  'transition:chat.bsky': 'Read and send your direct messages.',
}

export function describeScopes(scope: string): string[] {
  return scope
    .split(' ')
    .filter(Boolean)
    .map((token) => KNOWN[token] ?? describeGranular(token))
}

function describeGranular(token: string): string {
  const [resource, rest = ''] = token.split(/[:?]/, 2) as [string, string?]
  const target = decodeURIComponent(rest)
  switch (resource) {
    case 'repo':
      return `Change records in your repository: ${target || 'any collection'}.`
    case 'rpc':
      return `Call services as you: ${target || 'any method'}.`
    case 'blob':
      return `Upload files: ${target || 'any type'}.`
    case 'account':
      return `Manage your account: ${target}.`
    case 'identity':
      return `Change your identity (handle or DID document): ${target}.`
    case 'include':
      return `A set of permissions: ${target}.`
    default:
      return `A permission this server does not know, which allows nothing here: ${token}.`
  }
}
