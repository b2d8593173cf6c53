export class InvalidMstNodeError extends Error {
  override name = 'InvalidMstNodeError'
}

export class MstKeyExistsError extends Error {
  override name = 'MstKeyExistsError'
  readonly key: string

  constructor(key: string) {
    super(`key already in the tree: ${key}`)
    this.key = key
  }
}

export class MstKeyNotFoundError extends Error {
  override name = 'MstKeyNotFoundError'
  readonly key: string

  constructor(key: string) {
    super(`key not in the tree: ${key}`)
    this.key = key
  }
}
