/** Plain objects are the only objects that are data-model maps. */

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/**
 * Sets `key` on an object built from untrusted keys. A plain `out[key] = value` with the key
 * `__proto__` would set the prototype instead (losing the entry and changing the object's
 * type); a data-model map may hold that key like any other.
 */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    })
  } else {
    target[key] = value
  }
}
