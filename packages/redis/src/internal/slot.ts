/**
 * Redis Cluster hash slots (CRC16/XMODEM of the key, or of its `{hash tag}`,
 * modulo 16384), to group multi-key commands by slot.
 *
 * @internal
 */

const TABLE = (() => {
  const table = new Uint16Array(256)
  for (let i = 0; i < 256; i++) {
    let crc = i << 8
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
    table[i] = crc
  }
  return table
})()

/** @internal */
export const slotOf = (key: string | Buffer): number => {
  let bytes = typeof key === "string" ? Buffer.from(key, "utf8") : key
  const open = bytes.indexOf(0x7b)
  if (open !== -1) {
    const close = bytes.indexOf(0x7d, open + 1)
    if (close > open + 1) bytes = bytes.subarray(open + 1, close)
  }
  let crc = 0
  for (let i = 0; i < bytes.length; i++) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ bytes[i]) & 0xff]
  return crc & 16383
}

/** Groups `keys` by slot, keeping each key's index in the input. @internal */
export const groupBySlot = (keys: ReadonlyArray<string>): Map<number, Array<number>> => {
  const groups = new Map<number, Array<number>>()
  for (let i = 0; i < keys.length; i++) {
    const slot = slotOf(keys[i])
    const group = groups.get(slot)
    if (group === undefined) groups.set(slot, [i])
    else group.push(i)
  }
  return groups
}

let tags: Array<string> | undefined

/**
 * A short string whose slot is `slot`: a `{hash tag}` made of it puts a key in
 * that slot, next to another key of it (for scripts over both). @internal
 */
export const tagOfSlot = (slot: number): string => {
  if (tags === undefined) {
    const found: Array<string> = new Array(16384)
    let missing = 16384
    for (let i = 0; missing > 0; i++) {
      const candidate = i.toString(36)
      const at = slotOf(candidate)
      if (found[at] === undefined) {
        found[at] = candidate
        missing--
      }
    }
    tags = found
  }
  return tags[slot]
}
