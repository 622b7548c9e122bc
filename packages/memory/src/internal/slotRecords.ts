/**
 * The fixed-size state of every slot, 32 bytes in one `ArrayBuffer`, record
 * after record, read through views of several widths. A hit reads and writes
 * most of a record (the times, the links, the area), so keeping a slot's
 * fields together costs one cache miss where one array per field would cost
 * one per field.
 *
 * Layout of a record (offsets in units of the view that reads the field):
 *
 * | bytes | field      | owner         | read as                                 |
 * |-------|------------|---------------|-----------------------------------------|
 * | 0-7   | createdAt  | `SlotTimes`   | `doubles[slot * DOUBLES_PER_SLOT]`      |
 * | 8-11  | freshFor   | `SlotTimes`   | `words[slot * INTS_PER_SLOT + FRESH_FOR]` |
 * | 12-15 | staleFor   | `SlotTimes`   | `words[slot * INTS_PER_SLOT + STALE_FOR]` |
 * | 16-19 | next       | `SlotLists`   | `ints[slot * INTS_PER_SLOT + NEXT]`     |
 * | 20-23 | prev       | `SlotLists`   | `ints[slot * INTS_PER_SLOT + PREV]`     |
 * | 24-27 | key hash   | `KeyIndex`    | `ints[slot * INTS_PER_SLOT + HASH]`     |
 * | 28-29 | schema id  | `SchemaTable` | `halves[slot * HALVES_PER_SLOT + SCHEMA]` |
 * | 30    | negative   | `Store`       | `bytes[slot * RECORD_BYTES + NEGATIVE]` |
 * | 31    | area       | the policy    | `bytes[slot * RECORD_BYTES + AREA]`     |
 * @internal
 */
export class SlotRecords {
  doubles: Float64Array
  ints: Int32Array
  words: Uint32Array
  halves: Uint16Array
  bytes: Uint8Array

  constructor(capacity: number) {
    const buffer = new ArrayBuffer(capacity * RECORD_BYTES)
    this.doubles = new Float64Array(buffer)
    this.ints = new Int32Array(buffer)
    this.words = new Uint32Array(buffer)
    this.halves = new Uint16Array(buffer)
    this.bytes = new Uint8Array(buffer)
  }

  /** Room for `capacity` slots; every view is replaced, so callers read them from here each time. */
  grow(capacity: number): void {
    const grown = new SlotRecords(capacity)
    grown.bytes.set(this.bytes)
    this.doubles = grown.doubles
    this.ints = grown.ints
    this.words = grown.words
    this.halves = grown.halves
    this.bytes = grown.bytes
  }
}

/** @internal */
export const RECORD_BYTES = 32
/** Elements of `ints` and `words` per slot. @internal */
export const INTS_PER_SLOT = 8
/** @internal */
export const HALVES_PER_SLOT = 16
/** @internal */
export const DOUBLES_PER_SLOT = 4
/** In `words`. @internal */
export const FRESH_FOR = 2
/** In `words`. @internal */
export const STALE_FOR = 3
/** In `ints`. @internal */
export const NEXT = 4
/** In `ints`. @internal */
export const PREV = 5
/** In `ints`. @internal */
export const HASH = 6
/** In `halves`. @internal */
export const SCHEMA = 14
/** In `bytes`. @internal */
export const NEGATIVE = 30
/** In `bytes`. @internal */
export const AREA = 31

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
