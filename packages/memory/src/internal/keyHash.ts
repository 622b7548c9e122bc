/**
 * A 32-bit hash of a key: MurmurHash3 (x86, 32-bit) over the key's UTF-16
 * code units taken two at a time, seeded per store so that keys chosen to
 * collide in one process do not collide in another. The store computes it once
 * per call and hands it to both the key index and the frequency sketch.
 * @internal
 */
export const hashKey = (key: string, seed: number): number => {
  const length = key.length
  let hash = seed
  let i = 0
  for (; i + 1 < length; i += 2) {
    hash ^= mixBlock(key.charCodeAt(i) | (key.charCodeAt(i + 1) << 16))
    hash = (hash << 13) | (hash >>> 19)
    hash = (Math.imul(hash, 5) + 0xe6546b64) | 0
  }
  if (i < length) hash ^= mixBlock(key.charCodeAt(i))
  return finalMix(hash ^ (length << 1))
}

const mixBlock = (block: number): number => {
  const mixed = Math.imul(block, 0xcc9e2d51)
  return Math.imul((mixed << 15) | (mixed >>> 17), 0x1b873593)
}

/** Murmur3's avalanche: every input bit flips each output bit with probability ~1/2. @internal */
export const finalMix = (value: number): number => {
  let hash = value
  hash ^= hash >>> 16
  hash = Math.imul(hash, 0x85ebca6b)
  hash ^= hash >>> 13
  hash = Math.imul(hash, 0xc2b2ae35)
  return hash ^ (hash >>> 16)
}

/** A random 32-bit seed for a new store. @internal */
export const randomSeed = (): number => (Math.random() * 0x1_0000_0000) | 0
