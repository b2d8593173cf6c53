export type { MstCreate, MstDelete, MstDiff, MstUpdate } from './diff.ts'
export { InvalidMstNodeError, MstKeyExistsError, MstKeyNotFoundError } from './errors.ts'
export {
  commonPrefixLength,
  ensureValidMstKey,
  InvalidMstKeyError,
  isValidMstKey,
  keyHeight,
  MAX_MST_KEY_LENGTH,
} from './key.ts'
export { diffRoots, Mst } from './mst.ts'
export type { ListOptions, MstEntry, WalkedNode } from './walk.ts'
