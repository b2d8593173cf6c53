/**
 * The dispatcher's `authorize` step: whether the caller's credentials allow the permissions a
 * call needs (`src/xrpc/permission.ts`). Every credential this PDS accepts today is a legacy
 * one (sessions from createSession and app passwords, refresh tokens, admin, service-auth),
 * which carries no scopes: what it may do is its auth verifier's decision, so everything is
 * allowed here.
 *
 * @TODO OAuth access tokens (#15): check their scopes against `permissions`, and refuse
 * `password-session` to them.
 */
import type { Authorize } from '../xrpc/dispatch.ts'

export const authorizeCall: Authorize = () => {}
