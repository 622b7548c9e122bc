/**
 * Circular doubly linked lists threaded through two `Int32Array`s indexed by
 * slot, so that ordering entries costs 8 bytes per slot and no object. Slots
 * below `FIRST_SLOT` are the lists' heads: for a list `l`, `next[l]` is its
 * most recently used slot and `prev[l]` its least recently used one; walking
 * `prev` from the least recent goes towards the most recent and ends on `l`.
 *
 * Free slots are chained through `next` (they are in no list).
 * @internal
 */
export class SlotLists {
  private next: Int32Array
  private prev: Int32Array
  /** First free slot, the rest chained through `next`; `NO_SLOT` when none. */
  private freeHead = NO_SLOT

  constructor(capacity: number) {
    this.next = new Int32Array(capacity)
    this.prev = new Int32Array(capacity)
    this.clear()
  }

  /** Empties every list and the free chain (keeps the arrays). */
  clear(): void {
    for (let list = 0; list < FIRST_SLOT; list++) {
      this.next[list] = list
      this.prev[list] = list
    }
    this.freeHead = NO_SLOT
  }

  grow(capacity: number): void {
    this.next = copied(this.next, capacity)
    this.prev = copied(this.prev, capacity)
  }

  isEmpty(list: number): boolean {
    return this.next[list] === list
  }

  /** The list's least recently used slot, or the list itself (a head, below `FIRST_SLOT`) when empty. */
  leastRecent(list: number): number {
    return this.prev[list]
  }

  mostRecent(list: number): number {
    return this.next[list]
  }

  /** The slot used just after `slot` in its list, or the list's head (below `FIRST_SLOT`) at the end. */
  newer(slot: number): number {
    return this.prev[slot]
  }

  /** The slot used just before `slot`, or the list's head at the end. */
  older(slot: number): number {
    return this.next[slot]
  }

  pushMostRecent(list: number, slot: number): void {
    const first = this.next[list]
    this.next[slot] = first
    this.prev[slot] = list
    this.prev[first] = slot
    this.next[list] = slot
  }

  pushLeastRecent(list: number, slot: number): void {
    const last = this.prev[list]
    this.prev[slot] = last
    this.next[slot] = list
    this.next[last] = slot
    this.prev[list] = slot
  }

  unlink(slot: number): void {
    const before = this.prev[slot]
    const after = this.next[slot]
    this.next[before] = after
    this.prev[after] = before
  }

  moveToMostRecent(list: number, slot: number): void {
    if (this.next[list] === slot) return
    this.unlink(slot)
    this.pushMostRecent(list, slot)
  }

  /** Puts an unlinked slot on the free chain. */
  release(slot: number): void {
    this.next[slot] = this.freeHead
    this.freeHead = slot
  }

  /** A slot from the free chain, or `NO_SLOT`. */
  reuse(): number {
    const slot = this.freeHead
    if (slot !== NO_SLOT) this.freeHead = this.next[slot]
    return slot
  }
}

/** The lists' heads take slots `0 .. FIRST_SLOT - 1`: the tinylfu policy uses three lists, lru one. @internal */
export const FIRST_SLOT = 3

/** Not a slot: entries start at `FIRST_SLOT`. @internal */
export const NO_SLOT = 0

/** A copy of `array` grown to `length` elements (typed arrays cannot grow in place). @internal */
export const copied = <T extends Int32Array | Uint32Array | Uint16Array | Uint8Array | Float64Array>(
  array: T,
  length: number
): T => {
  const grown = new (array.constructor as new(length: number) => T)(length)
  grown.set(array)
  return grown
}
