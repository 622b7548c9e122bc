import { INTS_PER_SLOT, NEXT, NO_SLOT, PREV, type SlotRecords } from "./slotRecords.js"

/**
 * Circular doubly linked lists threaded through the slots' records (`next`
 * and `prev`), so that ordering entries costs 8 bytes per slot and no object.
 * Slots below `FIRST_SLOT` are the lists' heads: for a list `l`, `next` of `l`
 * is its most recently used slot and `prev` its least recently used one;
 * walking `prev` from the least recent goes towards the most recent and ends
 * on `l`.
 *
 * Free slots are chained through `next` (they are in no list).
 * @internal
 */
export class SlotLists {
  /** First free slot, the rest chained through `next`; `NO_SLOT` when none. */
  private freeHead = NO_SLOT

  constructor(private readonly records: SlotRecords, lists: number) {
    const ints = records.ints
    for (let list = 0; list < lists; list++) {
      ints[list * INTS_PER_SLOT + NEXT] = list
      ints[list * INTS_PER_SLOT + PREV] = list
    }
  }

  isEmpty(list: number): boolean {
    return this.records.ints[list * INTS_PER_SLOT + NEXT] === list
  }

  /** The list's least recently used slot, or the list itself (a head, below `FIRST_SLOT`) when empty. */
  leastRecent(list: number): number {
    return this.records.ints[list * INTS_PER_SLOT + PREV]
  }

  mostRecent(list: number): number {
    return this.records.ints[list * INTS_PER_SLOT + NEXT]
  }

  /** The slot used just after `slot` in its list, or the list's head (below `FIRST_SLOT`) at the end. */
  newer(slot: number): number {
    return this.records.ints[slot * INTS_PER_SLOT + PREV]
  }

  /** The slot used just before `slot`, or the list's head at the end. */
  older(slot: number): number {
    return this.records.ints[slot * INTS_PER_SLOT + NEXT]
  }

  pushMostRecent(list: number, slot: number): void {
    const ints = this.records.ints
    const first = ints[list * INTS_PER_SLOT + NEXT]
    ints[slot * INTS_PER_SLOT + NEXT] = first
    ints[slot * INTS_PER_SLOT + PREV] = list
    ints[first * INTS_PER_SLOT + PREV] = slot
    ints[list * INTS_PER_SLOT + NEXT] = slot
  }

  pushLeastRecent(list: number, slot: number): void {
    const ints = this.records.ints
    const last = ints[list * INTS_PER_SLOT + PREV]
    ints[slot * INTS_PER_SLOT + PREV] = last
    ints[slot * INTS_PER_SLOT + NEXT] = list
    ints[last * INTS_PER_SLOT + NEXT] = slot
    ints[list * INTS_PER_SLOT + PREV] = slot
  }

  unlink(slot: number): void {
    const ints = this.records.ints
    const before = ints[slot * INTS_PER_SLOT + PREV]
    const after = ints[slot * INTS_PER_SLOT + NEXT]
    ints[before * INTS_PER_SLOT + NEXT] = after
    ints[after * INTS_PER_SLOT + PREV] = before
  }

  moveToMostRecent(list: number, slot: number): void {
    if (this.records.ints[list * INTS_PER_SLOT + NEXT] === slot) return
    this.unlink(slot)
    this.pushMostRecent(list, slot)
  }

  /** Puts an unlinked slot on the free chain. */
  release(slot: number): void {
    this.records.ints[slot * INTS_PER_SLOT + NEXT] = this.freeHead
    this.freeHead = slot
  }

  /** A slot from the free chain, or `NO_SLOT`. */
  reuse(): number {
    const slot = this.freeHead
    if (slot !== NO_SLOT) this.freeHead = this.records.ints[slot * INTS_PER_SLOT + NEXT]
    return slot
  }
}
