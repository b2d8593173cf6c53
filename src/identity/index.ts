/** did:plc operations and directory client, DID documents, DID and handle resolution. */
export * from './did-document.ts'
export * from './did-resolver.ts'
export * from './errors.ts'
export * from './handle-resolver.ts'
export type { FetchFn } from './http.ts'
export * from './plc-client.ts'
export * from './plc-operation.ts'
export * from './service-url.ts'
