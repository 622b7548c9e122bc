import { copied, DOUBLES_PER_SLOT, FRESH_FOR, INTS_PER_SLOT, type SlotRecords, STALE_FOR } from "./slotRecords.js"

/** An offset that stands for an infinite `freshUntil` / `staleUntil`. */
const NEVER = 0xffff_ffff

/**
 * Every slot's `createdAt`, `freshUntil` and `staleUntil`, in 16 bytes of its
 * record instead of three doubles: `createdAt` as a double and the other two
 * as whole milliseconds after it, 32-bit unsigned (up to 49 days; `NEVER` for
 * an infinite time). Times are given back exactly: the first entry whose times do
 * not fit that way (a fraction of a millisecond, a lifetime over 49 days, a
 * time before `createdAt`) switches the store, for good, to three doubles per
 * slot.
 *
 * With a `timeToIdle`, each slot also has an idle deadline, outside the record
 * (8 bytes per slot, allocated only then): `min(last use + timeToIdle,
 * staleUntil)`, renewed by `touched` on every read hit and write. The entry is
 * gone at that deadline, so one comparison decides, and it never outlives
 * `staleUntil`.
 * @internal
 */
export class SlotTimes {
  /** Absolute times, once some entry did not fit in offsets; then the offsets are unused. */
  private exact: { freshUntil: Float64Array; staleUntil: Float64Array } | undefined = undefined
  /** Per slot, when the entry goes unless used again; only with a `timeToIdle`. */
  private idleUntil: Float64Array | undefined
  private readonly timeToIdle: number

  /** `timeToIdle` in milliseconds, above zero and finite, or `undefined` for none. */
  constructor(private readonly records: SlotRecords, timeToIdle?: number | undefined) {
    this.timeToIdle = timeToIdle ?? Infinity
    this.idleUntil = timeToIdle === undefined ? undefined : new Float64Array(this.capacity())
  }

  createdAtOf(slot: number): number {
    return this.records.doubles[slot * DOUBLES_PER_SLOT]
  }

  freshUntilOf(slot: number): number {
    return this.exact === undefined
      ? fromOffset(this.createdAtOf(slot), this.records.words[slot * INTS_PER_SLOT + FRESH_FOR])
      : this.exact.freshUntil[slot]
  }

  staleUntilOf(slot: number): number {
    return this.exact === undefined
      ? fromOffset(this.createdAtOf(slot), this.records.words[slot * INTS_PER_SLOT + STALE_FOR])
      : this.exact.staleUntil[slot]
  }

  /**
   * Whether the entry in `slot` is gone at `now`: `now >= staleUntil`, or past
   * its idle deadline. A boolean, so nothing is boxed on a hit.
   */
  isGoneAt(slot: number, now: number): boolean {
    const idleUntil = this.idleUntil
    return now >= (idleUntil === undefined ? this.staleUntilOf(slot) : idleUntil[slot])
  }

  /** The entry in `slot` was read or written at `now`: renews its idle deadline (after `set`, which it reads). */
  touched(slot: number, now: number): void {
    const idleUntil = this.idleUntil
    if (idleUntil !== undefined) idleUntil[slot] = Math.min(now + this.timeToIdle, this.staleUntilOf(slot))
  }

  set(slot: number, createdAt: number, freshUntil: number, staleUntil: number): void {
    this.records.doubles[slot * DOUBLES_PER_SLOT] = createdAt
    if (this.exact === undefined) {
      const freshFor = toOffset(createdAt, freshUntil)
      const staleFor = toOffset(createdAt, staleUntil)
      if (freshFor !== undefined && staleFor !== undefined) {
        this.records.words[slot * INTS_PER_SLOT + FRESH_FOR] = freshFor
        this.records.words[slot * INTS_PER_SLOT + STALE_FOR] = staleFor
        return
      }
      this.switchToExact()
    }
    this.exact!.freshUntil[slot] = freshUntil
    this.exact!.staleUntil[slot] = staleUntil
  }

  /** After the records have grown to `capacity` slots. */
  grow(capacity: number): void {
    if (this.idleUntil !== undefined) this.idleUntil = copied(this.idleUntil, capacity)
    if (this.exact === undefined) return
    this.exact.freshUntil = copied(this.exact.freshUntil, capacity)
    this.exact.staleUntil = copied(this.exact.staleUntil, capacity)
  }

  private capacity(): number {
    return this.records.doubles.length / DOUBLES_PER_SLOT
  }

  private switchToExact(): void {
    const capacity = this.capacity()
    const freshUntil = new Float64Array(capacity)
    const staleUntil = new Float64Array(capacity)
    for (let slot = 0; slot < capacity; slot++) {
      freshUntil[slot] = this.freshUntilOf(slot)
      staleUntil[slot] = this.staleUntilOf(slot)
    }
    this.exact = { freshUntil, staleUntil }
  }
}

const fromOffset = (createdAt: number, offset: number): number => offset === NEVER ? Infinity : createdAt + offset

/** The offset that gives `time` back exactly, or `undefined`. */
const toOffset = (createdAt: number, time: number): number | undefined => {
  if (time === Infinity) return createdAt === Infinity ? undefined : NEVER
  const offset = time - createdAt
  return Number.isInteger(offset) && offset >= 0 && offset < NEVER && createdAt + offset === time ? offset : undefined
}
