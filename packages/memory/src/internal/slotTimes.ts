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
 * @internal
 */
export class SlotTimes {
  /** Absolute times, once some entry did not fit in offsets; then the offsets are unused. */
  private exact: { freshUntil: Float64Array; staleUntil: Float64Array } | undefined = undefined

  constructor(protected readonly records: SlotRecords) {}

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

  /** Whether the entry in `slot` is gone at `now` (`now >= staleUntil`); a boolean, so nothing is boxed on a hit. */
  isGoneAt(slot: number, now: number): boolean {
    return now >= this.staleUntilOf(slot)
  }

  /** The entry in `slot` was read or written at `now` (after `set`); only `IdleSlotTimes` keeps track. */
  touched(_slot: number, _now: number): void {}

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
    if (this.exact === undefined) return
    this.exact.freshUntil = copied(this.exact.freshUntil, capacity)
    this.exact.staleUntil = copied(this.exact.staleUntil, capacity)
  }

  protected capacity(): number {
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

/**
 * `SlotTimes` with a `timeToIdle`: each slot also has an idle deadline,
 * `min(last use + timeToIdle, staleUntil)`, renewed by `touched` on every read
 * hit and write, in 8 bytes per slot outside the record. The entry is gone at
 * that deadline, so one comparison still decides, and it never outlives its
 * `staleUntil`. A subclass rather than a flag, so a store without `timeToIdle`
 * runs exactly the code it ran before.
 * @internal
 */
export class IdleSlotTimes extends SlotTimes {
  private idleUntil: Float64Array

  /** `timeToIdle` in milliseconds, above zero. */
  constructor(records: SlotRecords, private readonly timeToIdle: number) {
    super(records)
    this.idleUntil = new Float64Array(this.capacity())
  }

  override isGoneAt(slot: number, now: number): boolean {
    return now >= this.idleUntil[slot]
  }

  override touched(slot: number, now: number): void {
    this.idleUntil[slot] = Math.min(now + this.timeToIdle, this.staleUntilOf(slot))
  }

  override grow(capacity: number): void {
    super.grow(capacity)
    this.idleUntil = copied(this.idleUntil, capacity)
  }
}

const fromOffset = (createdAt: number, offset: number): number => offset === NEVER ? Infinity : createdAt + offset

/** The offset that gives `time` back exactly, or `undefined`. */
const toOffset = (createdAt: number, time: number): number | undefined => {
  if (time === Infinity) return createdAt === Infinity ? undefined : NEVER
  const offset = time - createdAt
  return Number.isInteger(offset) && offset >= 0 && offset < NEVER && createdAt + offset === time ? offset : undefined
}
