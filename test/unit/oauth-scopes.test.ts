/**
 * OAuth scopes (src/auth/scopes): the scope-string syntax, each resource's parameters, what a
 * granted scope allows, normalization of a requested scope, permission-set expansion and the
 * consent words. The behaviour shared with the reference implementation is also checked
 * against it, case by case, in oauth-scopes-differential.test.ts.
 */
import { describe, expect, it } from 'vitest'
import {
  allows,
  describeScope,
  expandInclude,
  grantScope,
  normalizeScope,
  type PermissionSet,
  PermissionSetError,
  type PermissionSetResolver,
  parseResourceScope,
  parseScope,
  permissionSetOf,
  scopeNeededFor,
} from '../../src/auth/scopes/index.ts'
import { parseScopeSyntax } from '../../src/auth/scopes/scope-syntax.ts'
import {
  accountPermission,
  blobPermission,
  identityPermission,
  type Permission,
  passwordSessionOnly,
  repoPermission,
  rpcPermission,
} from '../../src/xrpc/permission.ts'

const APPVIEW = 'did:web:api.bsky.app#bsky_appview'
const CHAT = 'did:web:api.bsky.chat#bsky_chat'
const can = (scope: string, permission: Permission) => allows(parseScope(scope), permission)
const post = (action: 'create' | 'update' | 'delete') =>
  repoPermission('app.bsky.feed.post', action)

describe('scope syntax', () => {
  it('splits resource, positional part and params, decoding percent-escapes', () => {
    expect(parseScopeSyntax('rpc?lxm=*&aud=did:web:api.example.com%23svc_appview')).toEqual({
      resource: 'rpc',
      positional: undefined,
      params: new Map([
        ['lxm', ['*']],
        ['aud', ['did:web:api.example.com#svc_appview']],
      ]),
    })
    const repo = parseScopeSyntax('repo:app.example.profile?action=create&action=update')
    expect(repo?.positional).toBe('app.example.profile')
    expect(repo?.params.get('action')).toEqual(['create', 'update'])
    // The positional part may hold colons and hashes.
    expect(parseScopeSyntax('service:did:web:com.example#type?key=val')?.positional).toBe(
      'did:web:com.example#type',
    )
    expect(parseScopeSyntax('identity:*?')).toMatchObject({ positional: '*', params: new Map() })
  })

  it('refuses what is not printable ASCII, or has a broken percent-escape', () => {
    expect(parseScopeSyntax('resource:positional?key=québec')).toBeNull()
    expect(parseScopeSyntax('emoji:☺️')).toBeNull()
    expect(parseScopeSyntax('repo:app.bsky.feed.post%zz')).toBeNull()
  })
})

describe('resources', () => {
  it('reads the spec examples, positional or named', () => {
    expect(parseResourceScope('repo:app.example.profile')).toEqual({
      resource: 'repo',
      collections: ['app.example.profile'],
      actions: ['create', 'update', 'delete'],
    })
    expect(
      parseResourceScope('repo?collection=app.example.profile&collection=app.example.post'),
    ).toMatchObject({ collections: ['app.example.profile', 'app.example.post'] })
    expect(parseResourceScope('repo:*?action=delete')).toMatchObject({
      collections: ['*'],
      actions: ['delete'],
    })
    expect(parseResourceScope('rpc:app.example.moderation.createReport?aud=*')).toEqual({
      resource: 'rpc',
      lxms: ['app.example.moderation.createReport'],
      aud: '*',
    })
    expect(parseResourceScope('blob?accept=video/*&accept=text/html')).toEqual({
      resource: 'blob',
      accept: ['video/*', 'text/html'],
    })
    expect(parseResourceScope('account:email')).toEqual({
      resource: 'account',
      attr: 'email',
      actions: ['read'],
    })
    expect(parseResourceScope('account?action=manage&attr=repo')).toMatchObject({
      attr: 'repo',
      actions: ['manage'],
    })
    expect(parseResourceScope('identity:*')).toEqual({ resource: 'identity', attr: '*' })
    expect(
      parseResourceScope('include:app.example.authFull?aud=did:web:api.example.com%23svc_chat'),
    ).toEqual({
      resource: 'include',
      nsid: 'app.example.authFull',
      aud: 'did:web:api.example.com#svc_chat',
    })
  })

  it('refuses what the spec does not allow', () => {
    for (const token of [
      'repo:com.example.record?collection=com.example.other', // positional named twice
      'repo:com.example.*', // partial wildcard
      'repo:app.bsky.feed.post?action=publish',
      'repo:app.bsky.feed.post?colour=red', // unknown parameter
      'repo',
      'repo:',
      'rpc:app.bsky.feed.getTimeline', // aud is required
      'rpc:*?aud=*', // any method on any service
      'rpc:app.bsky.feed.getTimeline?aud=did:web:api.bsky.app', // no service fragment
      'rpc:app.bsky.feed.getTimeline?aud=a&aud=b',
      'blob:image', // not a MIME type
      'blob:*/png',
      'account:*', // no wildcard attribute
      'account:email?action=delete',
      'identity:did',
      'include:*',
      'include:app.example.authFull?aud=*',
      'resource:positional?key=val',
    ]) {
      expect(parseResourceScope(token), token).toBeNull()
    }
  })
})

describe('what a granted scope allows', () => {
  it('atproto alone allows nothing guarded', () => {
    expect(can('atproto', post('create'))).toBe(false)
    expect(can('atproto', blobPermission('image/png'))).toBe(false)
    expect(can('atproto', rpcPermission('app.bsky.feed.getTimeline', APPVIEW))).toBe(false)
  })

  it('repo: the collections and actions named', () => {
    const scope = 'atproto repo:app.bsky.feed.post?action=create'
    expect(can(scope, post('create'))).toBe(true)
    expect(can(scope, post('delete'))).toBe(false)
    expect(can(scope, repoPermission('app.bsky.feed.like', 'create'))).toBe(false)
    expect(
      can('atproto repo:*?action=delete', repoPermission('app.bsky.feed.like', 'delete')),
    ).toBe(true)
    expect(can('atproto repo:*?action=delete', post('create'))).toBe(false)
    expect(can('atproto repo:app.bsky.feed.post', post('update'))).toBe(true)
  })

  it('rpc: the method and the service, either a wildcard but not both', () => {
    const timeline = rpcPermission('app.bsky.feed.getTimeline', APPVIEW)
    expect(can(`atproto rpc:app.bsky.feed.getTimeline?aud=${APPVIEW}`, timeline)).toBe(true)
    expect(
      can(`atproto rpc:app.bsky.feed.getTimeline?aud=did:web:other.test%23bsky_appview`, timeline),
    ).toBe(false)
    expect(can(`atproto rpc:app.bsky.feed.getAuthorFeed?aud=${APPVIEW}`, timeline)).toBe(false)
    expect(can('atproto rpc:app.bsky.feed.getTimeline?aud=*', timeline)).toBe(true)
    expect(can(`atproto rpc:*?aud=${APPVIEW}`, timeline)).toBe(true)
    expect(can('atproto rpc:*?aud=*', timeline)).toBe(false) // ignored token
  })

  it('blob: MIME patterns', () => {
    expect(can('atproto blob:image/*', blobPermission('image/png'))).toBe(true)
    expect(can('atproto blob:image/*', blobPermission('video/mp4'))).toBe(false)
    expect(can('atproto blob:*/*', blobPermission('video/mp4'))).toBe(true)
    expect(can('atproto blob?accept=video/*&accept=text/html', blobPermission('text/html'))).toBe(
      true,
    )
    expect(can('atproto blob:*/*', blobPermission('not-a-mime'))).toBe(false)
  })

  it('account and identity: manage includes read; identity:* covers the handle', () => {
    expect(can('atproto account:email', accountPermission('email', 'read'))).toBe(true)
    expect(can('atproto account:email', accountPermission('email', 'manage'))).toBe(false)
    expect(can('atproto account:email?action=manage', accountPermission('email', 'read'))).toBe(
      true,
    )
    expect(can('atproto account:repo?action=manage', accountPermission('repo', 'manage'))).toBe(
      true,
    )
    expect(can('atproto account:repo?action=manage', accountPermission('status', 'manage'))).toBe(
      false,
    )
    expect(can('atproto identity:*', identityPermission('handle'))).toBe(true)
    expect(can('atproto identity:handle', identityPermission('*'))).toBe(false)
  })

  it('transition:generic: what an app password may do, chat and account matters excepted', () => {
    const generic = 'atproto transition:generic'
    expect(can(generic, repoPermission('app.bsky.feed.like', 'create'))).toBe(true)
    expect(can(generic, blobPermission('video/mp4'))).toBe(true)
    expect(can(generic, rpcPermission('app.bsky.feed.getTimeline', APPVIEW))).toBe(true)
    expect(can(generic, rpcPermission('*', 'did:web:video.bsky.app'))).toBe(true)
    expect(can(generic, rpcPermission('chat.bsky.convo.listConvos', CHAT))).toBe(false)
    expect(can(generic, accountPermission('email', 'read'))).toBe(false)
    expect(can(generic, identityPermission('handle'))).toBe(false)
    expect(can(generic, passwordSessionOnly[0] as Permission)).toBe(false)
    expect(
      can(`${generic} transition:chat.bsky`, rpcPermission('chat.bsky.convo.listConvos', CHAT)),
    ).toBe(true)
    expect(can('atproto transition:email', accountPermission('email', 'read'))).toBe(true)
    expect(can('atproto transition:email', accountPermission('email', 'manage'))).toBe(false)
  })

  it('unknown and malformed tokens are ignored, the rest still counts', () => {
    const scope = 'atproto openid profile repo:com.example.* blob:☺ repo:app.bsky.feed.post'
    const granted = parseScope(scope)
    expect(granted.ignored).toEqual(['openid', 'profile', 'repo:com.example.*', 'blob:☺'])
    expect(allows(granted, post('create'))).toBe(true)
  })

  it('names the scope a denied permission needs, in the form a client requests it', () => {
    expect(scopeNeededFor(repoPermission('app.bsky.feed.like', 'create'))).toBe(
      'repo:app.bsky.feed.like?action=create',
    )
    expect(scopeNeededFor(rpcPermission('app.bsky.feed.getTimeline', APPVIEW))).toBe(
      'rpc:app.bsky.feed.getTimeline?aud=did:web:api.bsky.app%23bsky_appview',
    )
    expect(scopeNeededFor(blobPermission('image/png'))).toBe('blob:image/png')
    expect(scopeNeededFor(accountPermission('email', 'read'))).toBe('account:email')
    expect(scopeNeededFor(accountPermission('repo', 'manage'))).toBe('account:repo?action=manage')
    expect(scopeNeededFor(identityPermission('*'))).toBe('identity:*')
    // Each of them, requested, allows what it was named for.
    for (const permission of [
      repoPermission('app.bsky.feed.like', 'create'),
      rpcPermission('app.bsky.feed.getTimeline', APPVIEW),
      blobPermission('image/png'),
      accountPermission('repo', 'manage'),
      identityPermission('handle'),
    ]) {
      expect(can(`atproto ${scopeNeededFor(permission)}`, permission)).toBe(true)
    }
  })
})

describe('normalizing a requested scope', () => {
  it('keeps what it understands, canonical, sorted, without repeats', () => {
    expect(
      normalizeScope(
        'atproto   repo?collection=app.bsky.feed.post&action=delete&action=create bogus:thing ' +
          'blob?accept=image/png&accept=image/* rpc?lxm=app.bsky.feed.getTimeline&aud=did:web:api.bsky.app%23bsky_appview atproto ' +
          'account:email?action=read identity:handle repo:app.bsky.feed.like?action=create&action=update&action=delete',
      ),
    ).toBe(
      [
        'account:email',
        'atproto',
        'blob:image/*',
        'identity:handle',
        'repo:app.bsky.feed.like',
        'repo:app.bsky.feed.post?action=create&action=delete',
        'rpc:app.bsky.feed.getTimeline?aud=did:web:api.bsky.app%23bsky_appview',
      ].join(' '),
    )
    expect(normalizeScope('')).toBe('')
    expect(normalizeScope('openid email')).toBe('')
  })
})

/** A stand-in for the Lexicon resolution system: published sets by NSID, loopback only. */
function resolverOf(sets: Record<string, PermissionSet>): PermissionSetResolver {
  return {
    async resolve(nsid) {
      const set = sets[nsid]
      if (!set) throw new Error('no such Lexicon')
      return set
    },
  }
}

const BASIC: PermissionSet = {
  type: 'permission-set',
  title: 'Basic App Functionality',
  'title:lang': { ja: '基本的なアプリ機能' },
  detail: 'Creation of posts and interactions',
  permissions: [
    { type: 'permission', resource: 'repo', collection: ['app.example.post'] },
    { type: 'permission', resource: 'repo', collection: ['app.example.like'], action: ['delete'] },
    {
      type: 'permission',
      resource: 'rpc',
      inheritAud: true,
      lxm: ['app.example.getFeed', 'app.example.getProfile'],
    },
    { type: 'permission', resource: 'rpc', aud: '*', lxm: ['app.example.getFeedSkeleton'] },
    // Each of these is dropped, the others kept:
    { type: 'permission', resource: 'repo', collection: ['app.other.post'] }, // another namespace
    { type: 'permission', resource: 'repo', collection: ['*'] }, // wildcard
    { type: 'permission', resource: 'blob', accept: ['*/*'] }, // never in a set
    { type: 'permission', resource: 'identity', attr: 'handle' },
    { type: 'permission', resource: 'rpc', aud: APPVIEW, lxm: ['app.example.getFeed'] }, // own aud
    { type: 'permission', resource: 'repo', collection: ['app.example.post'], colour: 'red' },
    { type: 'permission', resource: 'repo', collection: 'app.example.post' }, // not a list
    { type: 'permission', resource: 'spaceship', collection: ['app.example.post'] },
  ],
}

describe('permission sets (include:)', () => {
  it('expands a set within its namespace, the aud inherited from the include', () => {
    const include = parseResourceScope(
      `include:app.example.authBasicFeatures?aud=did:web:api.example.com%23svc_appview`,
    )
    if (include?.resource !== 'include') throw new Error('not an include')
    expect(expandInclude(include, BASIC)).toEqual([
      {
        resource: 'repo',
        collections: ['app.example.post'],
        actions: ['create', 'update', 'delete'],
      },
      { resource: 'repo', collections: ['app.example.like'], actions: ['delete'] },
      {
        resource: 'rpc',
        lxms: ['app.example.getFeed', 'app.example.getProfile'],
        aud: 'did:web:api.example.com#svc_appview',
      },
      { resource: 'rpc', lxms: ['app.example.getFeedSkeleton'], aud: '*' },
    ])
  })

  it('an inheritAud permission is dropped when the include names no aud', () => {
    const include = { resource: 'include' as const, nsid: 'app.example.authBasic', aud: undefined }
    expect(expandInclude(include, BASIC).filter((p) => p.resource === 'rpc')).toEqual([
      { resource: 'rpc', lxms: ['app.example.getFeedSkeleton'], aud: '*' },
    ])
  })

  it('a deeper set cannot reach up: app.example.feed.authX covers app.example.feed.* only', () => {
    const include = {
      resource: 'include' as const,
      nsid: 'app.example.feed.authOnlyPost',
      aud: undefined,
    }
    const set: PermissionSet = {
      type: 'permission-set',
      permissions: [
        { type: 'permission', resource: 'repo', collection: ['app.example.feed.post'] },
        { type: 'permission', resource: 'repo', collection: ['app.example.actor.profile'] },
        { type: 'permission', resource: 'repo', collection: ['app.example.feedx.post'] },
      ],
    }
    expect(expandInclude(include, set)).toEqual([
      {
        resource: 'repo',
        collections: ['app.example.feed.post'],
        actions: ['create', 'update', 'delete'],
      },
    ])
  })

  it('grantScope: the session keeps the include, access tokens carry its permissions', async () => {
    const grant = await grantScope(
      'atproto include:app.example.authBasic?aud=did:web:api.example.com%23svc_appview bogus',
      resolverOf({ 'app.example.authBasic': BASIC }),
    )
    expect(grant.scope).toBe(
      'atproto include:app.example.authBasic?aud=did:web:api.example.com%23svc_appview',
    )
    const token = parseScope(grant.tokenScope)
    expect(token.includes).toEqual([])
    expect(allows(token, repoPermission('app.example.post', 'create'))).toBe(true)
    expect(allows(token, repoPermission('app.example.like', 'create'))).toBe(false)
    expect(allows(token, repoPermission('app.example.like', 'delete'))).toBe(true)
    expect(
      allows(token, rpcPermission('app.example.getFeed', 'did:web:api.example.com#svc_appview')),
    ).toBe(true)
    expect(allows(token, repoPermission('app.other.post', 'create'))).toBe(false)
    // An include the resource server meets unexpanded grants nothing.
    expect(can(grant.scope, repoPermission('app.example.post', 'create'))).toBe(false)
  })

  it('a set that cannot be resolved fails the grant', async () => {
    await expect(
      grantScope('atproto include:app.example.authGone', resolverOf({})),
    ).rejects.toThrow(PermissionSetError)
  })

  it('reads the set out of a published Lexicon document', () => {
    const document = {
      lexicon: 1,
      id: 'app.example.authBasic',
      defs: { main: BASIC },
    }
    expect(permissionSetOf(document, 'app.example.authBasic')).toBe(BASIC)
    expect(permissionSetOf(document, 'app.example.authOther')).toBeNull()
    expect(
      permissionSetOf({ ...document, defs: { main: { type: 'query' } } }, 'app.example.authBasic'),
    ).toBeNull()
  })
})

describe('consent words', () => {
  it('one plain sentence per permission, broad ones marked, sets by their title', () => {
    const items = describeScope(
      'atproto transition:generic include:app.example.authBasic?aud=did:web:api.example.com%23svc_appview repo:app.bsky.feed.post?action=create blob:image/* account:email identity:* rpc:app.bsky.feed.getTimeline?aud=did:web:api.bsky.app%23bsky_appview',
      new Map([['app.example.authBasic', BASIC]]),
      'ja',
    )
    const byScope = Object.fromEntries(items.map((item) => [item.scope, item]))
    expect(byScope['transition:generic']).toMatchObject({ broad: true })
    expect(byScope.atproto?.text).toMatch(/who you are/)
    expect(byScope['repo:app.bsky.feed.post?action=create']?.text).toBe(
      'Create records of type app.bsky.feed.post in your public repository.',
    )
    expect(byScope['blob:image/*']?.text).toBe('Upload images.')
    expect(byScope['account:email']?.text).toMatch(/See your email address/)
    expect(byScope['identity:*']).toMatchObject({ broad: true })
    expect(byScope['identity:*']?.text).toMatch(/full control/)
    expect(
      byScope['rpc:app.bsky.feed.getTimeline?aud=did:web:api.bsky.app%23bsky_appview']?.text,
    ).toBe(
      'Call app.bsky.feed.getTimeline on the service did:web:api.bsky.app#bsky_appview as you.',
    )
    const set = byScope['include:app.example.authBasic']
    expect(set?.text).toBe('基本的なアプリ機能: Creation of posts and interactions')
    expect(set?.details).toContain(
      'Create, change and delete records of type app.example.post in your public repository.',
    )
    expect(set?.details).toHaveLength(4)
  })

  it('a set not resolved is named by its NSID; unknown tokens are not shown', () => {
    expect(describeScope('atproto include:app.example.authBasic nonsense')).toEqual([
      { scope: 'atproto', text: expect.any(String) },
      {
        scope: 'include:app.example.authBasic',
        text: 'Permissions of the set app.example.authBasic.',
      },
    ])
  })
})
