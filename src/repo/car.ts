/** CAR v1 (`application/vnd.ipld.car`): the one import for readers and writers. */
export {
  type ByteSource,
  type CarBlock,
  CarError,
  type CarReadOptions,
  type CarStream,
  CarTooLargeError,
  DEFAULT_MAX_BLOCK_SIZE,
  readCar,
  readCarStream,
} from './car-reader.ts'
export {
  type BlockSource,
  carToReadableStream,
  encodeCarBytes,
  encodeCarBytesSync,
  writeCar,
} from './car-writer.ts'
