import { FIRST_SLOT, HASH, INTS_PER_SLOT, NO_SLOT, type SlotRecords } from "./slotRecords.js"

/**
 * key -> slot, an open-addressing hash table in an `Int32Array` (linear
 * probing, deletion by backward shift, so no tombstones pile up under churn).
 * It replaces a `Map<string, number>`, which costs about 37 bytes per entry;
 * this costs 5 to 10 bytes of table plus 4 for the slot's hash.
 *
 * A cell holds the slot in its low `slotBits` bits and the key hash's high
 * bits above them (0 is an empty cell: no entry has slot 0), so a probe
 * compares a key string only when those bits match. The hash of every slot is
 * kept in its record: deletion needs each cell's home position, and the
 * policy reads it to compare frequencies without hashing keys again.
 *
 * The table has a power of two of cells, at least 1.25 per slot, so it is at
 * most 80% full.
 * @internal
 */
export class KeyIndex {
  private keys: Array<string | undefined> = []
  private table = new Int32Array(0)
  private cellMask = 0
  private slotMask = 0
  private tagMask = 0

  constructor(private readonly records: SlotRecords, capacity: number) {
    this.grow(capacity)
  }

  keyAt(slot: number): string | undefined {
    return this.keys[slot]
  }

  hashAt(slot: number): number {
    return this.records.ints[slot * INTS_PER_SLOT + HASH]
  }

  /** The slot holding `key` (whose hash is `hash`), or `NO_SLOT`. */
  find(key: string, hash: number): number {
    const { cellMask, slotMask, table, tagMask } = this
    const tag = hash & tagMask
    for (let cell = hash & cellMask;; cell = (cell + 1) & cellMask) {
      const content = table[cell]
      if (content === 0) return NO_SLOT
      if ((content & tagMask) === tag && this.keys[content & slotMask] === key) return content & slotMask
    }
  }

  /** Indexes `key` at `slot`; the key must not be indexed yet. */
  add(slot: number, key: string, hash: number): void {
    this.keys[slot] = key
    this.records.ints[slot * INTS_PER_SLOT + HASH] = hash
    this.place(slot, hash)
  }

  remove(slot: number): void {
    const { cellMask, slotMask, table } = this
    const ints = this.records.ints
    let hole = ints[slot * INTS_PER_SLOT + HASH] & cellMask
    while ((table[hole] & slotMask) !== slot) hole = (hole + 1) & cellMask
    // shift back every later cell of the run that may live in the hole (its home is not between hole and it)
    for (let cell = (hole + 1) & cellMask; table[cell] !== 0; cell = (cell + 1) & cellMask) {
      const home = ints[(table[cell] & slotMask) * INTS_PER_SLOT + HASH] & cellMask
      if (((cell - home) & cellMask) >= ((cell - hole) & cellMask)) {
        table[hole] = table[cell]
        hole = cell
      }
    }
    table[hole] = 0
    this.keys[slot] = undefined
  }

  /**
   * Makes room for slots `0 .. capacity - 1` (the records have grown already)
   * and re-indexes the kept keys: the cell layout depends on the capacity.
   */
  grow(capacity: number): void {
    const keys = new Array<string | undefined>(capacity).fill(undefined)
    for (let slot = 0; slot < this.keys.length; slot++) keys[slot] = this.keys[slot]
    this.keys = keys
    const slotBits = 32 - Math.clz32(capacity - 1)
    this.slotMask = slotBits >= 32 ? -1 : (1 << slotBits) - 1
    this.tagMask = ~this.slotMask
    const cells = 2 ** Math.ceil(Math.log2(Math.max(16, capacity * 1.25)))
    this.table = new Int32Array(cells)
    this.cellMask = cells - 1
    for (let slot = FIRST_SLOT; slot < capacity; slot++) {
      if (keys[slot] !== undefined) this.place(slot, this.hashAt(slot))
    }
  }

  private place(slot: number, hash: number): void {
    const { cellMask, table } = this
    let cell = hash & cellMask
    while (table[cell] !== 0) cell = (cell + 1) & cellMask
    table[cell] = (hash & this.tagMask) | slot
  }
}
