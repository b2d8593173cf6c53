import { DurableObject } from 'cloudflare:workers'

/**
 * One instance per account DID: the single writer of that account's repository.
 * @TODO the commit path arrives with the repository issue; until then the class only exists
 * so that the binding and its SQLite-backed storage are in place.
 */
export class AccountDurableObject extends DurableObject<Env> {}
