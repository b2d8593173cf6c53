/**
 * A FIFO async lock. Durable Object input gates do not hold across awaits on outbound I/O or
 * WebCrypto, so concurrent requests would otherwise interleave inside a commit.
 */
export class Mutex {
  private tail: Promise<void> = Promise.resolve()

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn)
    this.tail = result.then(
      () => undefined,
      () => undefined,
    )
    return result
  }
}
