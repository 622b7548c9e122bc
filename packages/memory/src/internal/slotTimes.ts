import { copied } from "./slotLists.js"

/** An offset that stands for an infinite `freshUntil` / `staleUntil`. */
const NEVER = 0xffff_ffff

/**
 * Every slot's `createdAt`, `freshUntil` and `staleUntil`, in 16 bytes instead
 * of three doubles: `createdAt` as a double and the other two as whole
 * milliseconds after it, in `Uint32Array`s (up to 49 days; `NEVER` for an
 * infinite time). Times are given back exactly: the first entry whose times do
 * not fit that way (a fraction of a millisecond, a lifetime over 49 days, a
 * time before `createdAt`) switches the store, for good, to three doubles per
 * slot.
 * @internal
 */
export class SlotTimes {
  private createdAt: Float64Array
  private freshFor: Uint32Array
  private staleFor: Uint32Array
  /** Absolute times, once some entry did not fit in offsets; then the offsets are unused. */
  private exact: { freshUntil: Float64Array; staleUntil: Float64Array } | undefined = undefined

  constructor(capacity: number) {
    this.createdAt = new Float64Array(capacity)
    this.freshFor = new Uint32Array(capacity)
    this.staleFor = new Uint32Array(capacity)
  }

  createdAtOf(slot: number): number {
    return this.createdAt[slot]
  }

  freshUntilOf(slot: number): number {
    return this.exact === undefined
      ? fromOffset(this.createdAt[slot], this.freshFor[slot])
      : this.exact.freshUntil[slot]
  }

  staleUntilOf(slot: number): number {
    return this.exact === undefined
      ? fromOffset(this.createdAt[slot], this.staleFor[slot])
      : this.exact.staleUntil[slot]
  }

  /** Whether the entry in `slot` is gone at `now` (`now >= staleUntil`); a boolean, so nothing is boxed on a hit. */
  isStaleAt(slot: number, now: number): boolean {
    return now >= this.staleUntilOf(slot)
  }

  set(slot: number, createdAt: number, freshUntil: number, staleUntil: number): void {
    this.createdAt[slot] = createdAt
    if (this.exact === undefined) {
      const freshFor = toOffset(createdAt, freshUntil)
      const staleFor = toOffset(createdAt, staleUntil)
      if (freshFor !== undefined && staleFor !== undefined) {
        this.freshFor[slot] = freshFor
        this.staleFor[slot] = staleFor
        return
      }
      this.switchToExact()
    }
    this.exact!.freshUntil[slot] = freshUntil
    this.exact!.staleUntil[slot] = staleUntil
  }

  grow(capacity: number): void {
    this.createdAt = copied(this.createdAt, capacity)
    if (this.exact === undefined) {
      this.freshFor = copied(this.freshFor, capacity)
      this.staleFor = copied(this.staleFor, capacity)
    } else {
      this.exact.freshUntil = copied(this.exact.freshUntil, capacity)
      this.exact.staleUntil = copied(this.exact.staleUntil, capacity)
    }
  }

  private switchToExact(): void {
    const capacity = this.createdAt.length
    const freshUntil = new Float64Array(capacity)
    const staleUntil = new Float64Array(capacity)
    for (let slot = 0; slot < capacity; slot++) {
      freshUntil[slot] = fromOffset(this.createdAt[slot], this.freshFor[slot])
      staleUntil[slot] = fromOffset(this.createdAt[slot], this.staleFor[slot])
    }
    this.exact = { freshUntil, staleUntil }
    this.freshFor = new Uint32Array(0)
    this.staleFor = new Uint32Array(0)
  }
}

const fromOffset = (createdAt: number, offset: number): number => offset === NEVER ? Infinity : createdAt + offset

/** The offset that gives `time` back exactly, or `undefined`. */
const toOffset = (createdAt: number, time: number): number | undefined => {
  if (time === Infinity) return createdAt === Infinity ? undefined : NEVER
  const offset = time - createdAt
  return Number.isInteger(offset) && offset >= 0 && offset < NEVER && createdAt + offset === time ? offset : undefined
}
