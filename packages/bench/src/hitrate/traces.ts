/**
 * Seeded request traces: arrays of key ids, the same on every run.
 */

/** A trace of key ids and the number of distinct ids it may use (ids are `0 .. keySpace - 1`). */
export interface Trace {
  readonly name: string
  readonly requests: Int32Array
  readonly keySpace: number
  /** With scans: the ids from here on are the keys used once. */
  readonly scannedFrom?: number
}

/** mulberry32: a small seeded generator of floats in [0, 1). */
export const seededRandom = (seed: number): () => number => {
  let state = seed | 0
  return () => {
    state = (state + 0x6d2b79f5) | 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * Draws ranks `0 .. keys - 1` with P(rank r) proportional to 1 / (r + 1)^exponent
 * (binary search in the cumulative distribution), each rank mapped to a key id
 * by a seeded permutation so that popularity is not ordered like the ids.
 */
const zipfSampler = (keys: number, exponent: number, random: () => number): () => number => {
  const cumulative = new Float64Array(keys)
  let total = 0
  for (let rank = 0; rank < keys; rank++) {
    total += 1 / Math.pow(rank + 1, exponent)
    cumulative[rank] = total
  }
  const idOfRank = Int32Array.from({ length: keys }, (_, i) => i)
  for (let i = keys - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    const swap = idOfRank[i]
    idOfRank[i] = idOfRank[j]
    idOfRank[j] = swap
  }
  return () => {
    const target = random() * total
    let low = 0
    let high = keys - 1
    while (low < high) {
      const middle = (low + high) >>> 1
      if (cumulative[middle] < target) low = middle + 1
      else high = middle
    }
    return idOfRank[low]
  }
}

/** `length` requests drawn from a Zipf distribution over `keys` keys. */
export const zipf = (length: number, keys: number, exponent: number, seed: number): Trace => {
  const next = zipfSampler(keys, exponent, seededRandom(seed))
  const requests = new Int32Array(length)
  for (let i = 0; i < length; i++) requests[i] = next()
  return { name: `Zipf ${exponent}`, requests, keySpace: keys }
}

/**
 * Zipf requests over `keys` keys, and every `zipfRun` of them a burst of
 * `scanLength` requests to keys used once and never again (sequential ids
 * from `keys` on), like a batch job or a crawler walking the whole key space.
 */
export const zipfWithScans = (
  length: number,
  keys: number,
  exponent: number,
  zipfRun: number,
  scanLength: number,
  seed: number
): Trace => {
  const next = zipfSampler(keys, exponent, seededRandom(seed))
  const requests = new Int32Array(length)
  let scanned = keys
  for (let i = 0; i < length;) {
    for (let j = 0; j < zipfRun && i < length; j++) requests[i++] = next()
    for (let j = 0; j < scanLength && i < length; j++) requests[i++] = scanned++
  }
  return { name: `Zipf ${exponent} + scans`, requests, keySpace: scanned, scannedFrom: keys }
}

/** `length` requests cycling over keys `0 .. loopLength - 1`. */
export const loop = (length: number, loopLength: number): Trace => {
  const requests = new Int32Array(length)
  for (let i = 0; i < length; i++) requests[i] = i % loopLength
  return { name: `loop over ${loopLength.toLocaleString("en")} keys`, requests, keySpace: loopLength }
}
