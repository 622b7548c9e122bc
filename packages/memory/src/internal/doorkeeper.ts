/**
 * A Bloom filter in front of the frequency sketch (TinyLFU's "doorkeeper"):
 * the first access of a key since the last aging only sets its bits here, so
 * the many keys seen once never reach the sketch's counters and do not inflate
 * the counts of the keys they collide with. Blocked: a key's 4 bits are in one
 * 32-bit word, so a check costs one memory access. About `BITS_PER_ENTRY` bits
 * per entry of capacity (a power of two of words). Cleared when the sketch ages.
 * It is given well-mixed hashes (the sketch's spread of the key hash).
 * @internal
 */
export class Doorkeeper {
  private words: Int32Array
  private wordMask: number

  constructor(capacity: number) {
    this.words = new Int32Array(wordsFor(capacity))
    this.wordMask = this.words.length - 1
  }

  /** Adds the key of hash `hash`; `true` when it was not there yet. */
  add(hash: number): boolean {
    const bits = bitsOf(hash)
    const word = hash & this.wordMask
    const before = this.words[word]
    this.words[word] = before | bits
    return (before & bits) !== bits
  }

  contains(hash: number): boolean {
    const bits = bitsOf(hash)
    return (this.words[hash & this.wordMask] & bits) === bits
  }

  clear(): void {
    this.words.fill(0)
  }

  /** Grows for `capacity` entries. The words are repeated, so every key added so far is still found. */
  grow(capacity: number): void {
    const length = wordsFor(capacity)
    if (length <= this.words.length) return
    const grown = new Int32Array(length)
    for (let offset = 0; offset < length; offset += this.words.length) grown.set(this.words, offset)
    this.words = grown
    this.wordMask = length - 1
  }
}

/** @internal */
export const BITS_PER_ENTRY = 8

const wordsFor = (capacity: number): number => 2 ** Math.ceil(Math.log2(Math.max(1, (capacity * BITS_PER_ENTRY) / 32)))

/** 4 bit positions from the high bits of a multiplicative rehash (the word is chosen by the low bits). */
const bitsOf = (hash: number): number => {
  const mixed = Math.imul(hash, 0x9e3779b9)
  return (1 << ((mixed >>> 12) & 31)) | (1 << ((mixed >>> 17) & 31)) | (1 << ((mixed >>> 22) & 31)) |
    (1 << (mixed >>> 27))
}
