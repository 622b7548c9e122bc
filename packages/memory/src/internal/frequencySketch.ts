import { Doorkeeper } from "./doorkeeper.js"

const RESET_MASK = 0x77777777
const ONE_MASK = 0x11111111
/** Ints of a 64-byte block: a key's 4 counters are in one block, one per 16-byte quarter. */
const BLOCK_INTS = 16

/**
 * How often each key was used recently, estimated in a fixed space: a
 * count-min sketch of 4-bit counters (Caffeine's `FrequencySketch`, with 32-bit
 * words), 8 counters per entry of capacity, 4 counters per key, behind a
 * `Doorkeeper`.
 *
 * Aging: after `sampleSize` (10 × capacity) recorded uses every counter is
 * halved, the doorkeeper is cleared and the use count halved too, so the
 * history follows a shifting workload. No allocation on any path but `grow`.
 * @internal
 */
export class FrequencySketch {
  private readonly doorkeeper: Doorkeeper
  private table: Int32Array
  private blockMask: number
  /** Uses recorded since the last aging (halved at it). */
  private uses = 0

  constructor(capacity: number) {
    this.agingPeriod = 10 * capacity
    this.table = new Int32Array(intsFor(capacity))
    this.blockMask = this.table.length / BLOCK_INTS - 1
    this.doorkeeper = new Doorkeeper(capacity)
  }

  private agingPeriod: number

  /** Uses between two agings: 10 × capacity. */
  get sampleSize(): number {
    return this.agingPeriod
  }

  /** Records a use of the key of hash `hash`. */
  increment(hash: number): void {
    const spreadHash = spread(hash)
    if (!this.doorkeeper.add(spreadHash)) {
      const block = (spreadHash & this.blockMask) * BLOCK_INTS
      const counters = rehash(spreadHash)
      // one counter in each 16-byte quarter of the block: 2 bits pick the int, 3 bits the nibble (unrolled)
      this.incrementAt(block + (counters & 3), (counters >>> 2) & 7)
      this.incrementAt(block + 4 + ((counters >>> 8) & 3), (counters >>> 10) & 7)
      this.incrementAt(block + 8 + ((counters >>> 16) & 3), (counters >>> 18) & 7)
      this.incrementAt(block + 12 + ((counters >>> 24) & 3), (counters >>> 26) & 7)
    }
    if (++this.uses >= this.agingPeriod) this.age()
  }

  /** Estimated recent uses of the key of hash `hash`, 0 to 15. */
  frequency(hash: number): number {
    const spreadHash = spread(hash)
    const block = (spreadHash & this.blockMask) * BLOCK_INTS
    const counters = rehash(spreadHash)
    const count = Math.min(
      this.countAt(block + (counters & 3), (counters >>> 2) & 7),
      this.countAt(block + 4 + ((counters >>> 8) & 3), (counters >>> 10) & 7),
      this.countAt(block + 8 + ((counters >>> 16) & 3), (counters >>> 18) & 7),
      this.countAt(block + 12 + ((counters >>> 24) & 3), (counters >>> 26) & 7)
    )
    return this.doorkeeper.contains(spreadHash) ? Math.min(15, count + 1) : count
  }

  /** Halves every counter and the use count, and clears the doorkeeper. */
  age(): void {
    const table = this.table
    let odd = 0
    for (let i = 0; i < table.length; i++) {
      odd += bitCount(table[i] & ONE_MASK)
      table[i] = (table[i] >>> 1) & RESET_MASK
    }
    // as Caffeine: the truncated halves (a quarter of the odd counters, 4 per key) are not counted twice
    this.uses = Math.max(0, (this.uses - (odd >>> 2)) >>> 1)
    this.doorkeeper.clear()
  }

  /**
   * Sized for `capacity` entries. Growing repeats the table: a key's block
   * index gains a high bit and its counters stay where they were in either
   * copy, so the counts survive.
   */
  grow(capacity: number): void {
    this.agingPeriod = 10 * capacity
    this.doorkeeper.grow(capacity)
    const length = intsFor(capacity)
    if (length <= this.table.length) return
    const grown = new Int32Array(length)
    for (let offset = 0; offset < length; offset += this.table.length) grown.set(this.table, offset)
    this.table = grown
    this.blockMask = length / BLOCK_INTS - 1
  }

  private incrementAt(index: number, counter: number): void {
    const shift = counter << 2
    const word = this.table[index]
    // `| 0` keeps the sum a 32-bit int when the top nibble carries into the sign bit
    if (((word >>> shift) & 15) !== 15) this.table[index] = (word + (1 << shift)) | 0
  }

  private countAt(index: number, counter: number): number {
    return (this.table[index] >>> (counter << 2)) & 15
  }
}

/** One int (8 counters) per entry, a power of two of ints, at least one block. */
const intsFor = (capacity: number): number => 2 ** Math.ceil(Math.log2(Math.max(BLOCK_INTS, capacity)))

/** Caffeine's supplemental hash, to pick the block. */
const spread = (hash: number): number => {
  let x = hash
  x ^= x >>> 17
  x = Math.imul(x, 0xed5ad4bb)
  x ^= x >>> 11
  x = Math.imul(x, 0xac4c1b51)
  return x ^ (x >>> 15)
}

/** Caffeine's second round on the spread hash, to pick the counters within the block. */
const rehash = (spreadHash: number): number => {
  const x = Math.imul(spreadHash, 0x31848bab)
  return x ^ (x >>> 14)
}

const bitCount = (value: number): number => {
  let v = value - ((value >>> 1) & 0x55555555)
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333)
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24)
}
