/**
 * OAuth scopes of the atproto permission spec (atproto.com/specs/permission): parsing,
 * matching a call's permissions against a granted scope, normalizing what a client requests,
 * expanding permission sets, and the words of the consent page.
 */
export * from './consent-text.ts'
export * from './granted-scope.ts'
export * from './permission-sets.ts'
export {
  formatResourceScope,
  type IncludeScope,
  parseResourceScope,
  type ScopePermission,
} from './resources.ts'
