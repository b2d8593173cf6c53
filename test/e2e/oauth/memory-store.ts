/** The in-memory state and session stores the official OAuth client asks for. */
export class MemoryStore<V> {
  readonly map = new Map<string, V>()
  async get(key: string): Promise<V | undefined> {
    return this.map.get(key)
  }
  async set(key: string, value: V): Promise<void> {
    this.map.set(key, value)
  }
  async del(key: string): Promise<void> {
    this.map.delete(key)
  }
}
