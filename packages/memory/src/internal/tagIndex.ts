/**
 * tag -> keys of the entries carrying it. Only tagged entries appear, and a tag
 * with no keys left is dropped, so the index never outgrows the tagged entries.
 * @internal
 */
export class TagIndex {
  private readonly keysByTag = new Map<string, Set<string>>()

  get size(): number {
    return this.keysByTag.size
  }

  add(key: string, tags: ReadonlyArray<string>): void {
    for (const tag of tags) {
      const keys = this.keysByTag.get(tag)
      if (keys === undefined) this.keysByTag.set(tag, new Set([key]))
      else keys.add(key)
    }
  }

  remove(key: string, tags: ReadonlyArray<string>): void {
    for (const tag of tags) {
      const keys = this.keysByTag.get(tag)
      if (keys === undefined) continue
      keys.delete(key)
      if (keys.size === 0) this.keysByTag.delete(tag)
    }
  }

  /** The keys carrying `tag`, as a copy: callers delete entries while walking it. */
  keysOf(tag: string): ReadonlyArray<string> {
    const keys = this.keysByTag.get(tag)
    return keys === undefined ? [] : Array.from(keys)
  }

  clear(): void {
    this.keysByTag.clear()
  }
}
