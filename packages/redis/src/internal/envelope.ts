/**
 * The bytes of one entry in Redis.
 *
 * ```
 * offset  size  field
 *  0      2     magic "LC"
 *  2      1     format version (3; older versions read as a DecodeFailure: 1 had no negative
 *                 flag, 2 no stamp)
 *  3      1     flags | codec id: codec 1 = json, 2 = msgpack (low bits); 0x80 = a cached failure
 *                 (negative caching), whose payload is the error encoded with its error schema
 *  4      8     createdAt   float64 BE, epoch ms
 * 12      8     freshUntil  float64 BE
 * 20      8     staleUntil  float64 BE
 * 28      4     key length  uint32 BE, then the key (UTF-8): guards against a value found under another key
 *  …      2     tag count   uint16 BE, then per tag: uint16 BE length + UTF-8 bytes
 *  …      …     payload: the value encoded with the entry's Schema, then JSON or MessagePack
 *  end-8  8     stamp       float64 BE, microseconds of the Redis server's clock: when the
 *                 entry's compute started, or when its `set` ran. Written by the write script
 *                 (`fence.ts`), compared with tag invalidation times (the same clock).
 * ```
 *
 * The layout before the payload is fixed so the read script (`scripts.ts`)
 * can find the tags without decoding the value. Anything that does not parse
 * is reported as a reason string, never thrown.
 *
 * @internal
 */
import { Packr } from "msgpackr"

/** @internal */
export type Codec = "json" | "msgpack"

/** @internal */
export const MAGIC = "LC"
/** @internal */
export const VERSION = 3
/** Bytes before the key. @internal */
export const FIXED_HEADER = 32
/** Bytes of the stamp at the end. @internal */
export const STAMP_BYTES = 8

const CODEC_ID: Record<Codec, number> = { json: 1, msgpack: 2 }
/** Set in the codec byte of a cached failure, whose payload is the error encoded with its error schema. */
const NEGATIVE = 0x80
const MAX_TAGS = 0xffff
const MAX_TAG_BYTES = 0xffff
const NO_TAGS: Array<string> = Object.freeze([]) as unknown as Array<string>

// Self-contained messages: no record extension, whose structures live in the
// Packr instance (another process could not read them). `moreTypes` keeps Set
// and typed arrays of `…FromSelf` schemas intact; maps read back as objects.
const packr = new Packr({ useRecords: false, moreTypes: true })

/** @internal */
export interface Header {
  readonly codec: number
  /** A cached failure. */
  readonly negative: boolean
  readonly createdAt: number
  readonly freshUntil: number
  readonly staleUntil: number
  /** Where the key's UTF-8 bytes end; they start at `FIXED_HEADER`. */
  readonly keyEnd: number
  readonly tags: ReadonlyArray<string>
  readonly payloadOffset: number
  /** Where the payload ends: the stamp follows. */
  readonly payloadEnd: number
  /** The Redis server's time of the entry's start, in microseconds (see the layout). */
  readonly stamp: number
}

/** @internal */
export interface Times {
  readonly createdAt: number
  readonly freshUntil: number
  readonly staleUntil: number
}

/**
 * Encodes an envelope. `encoded` is the value already encoded with the entry's
 * Schema. Throws on a value the codec cannot represent (the caller maps it to
 * an `Encode` tier error).
 * @internal
 */
export const encode = (
  key: string,
  times: Times,
  tags: ReadonlyArray<string>,
  encoded: unknown,
  codec: Codec,
  negative = false
): Buffer => {
  if (tags.length > MAX_TAGS) throw new Error(`too many tags (${tags.length}, at most ${MAX_TAGS})`)
  const keyBytes = Buffer.byteLength(key)
  let tagBytes = 2
  for (const tag of tags) {
    const length = Buffer.byteLength(tag)
    if (length > MAX_TAG_BYTES) throw new Error(`tag longer than ${MAX_TAG_BYTES} bytes`)
    tagBytes += 2 + length
  }
  let json: string | undefined
  let packed: Buffer | undefined
  let payloadBytes: number
  if (codec === "json") {
    // JSON has no `undefined`: a schema encoding to `undefined` gets an empty payload.
    json = encoded === undefined ? "" : JSON.stringify(encoded)
    payloadBytes = Buffer.byteLength(json)
  } else {
    packed = packr.pack(encoded)
    payloadBytes = packed.length
  }
  const buffer = Buffer.allocUnsafe(FIXED_HEADER + keyBytes + tagBytes + payloadBytes + STAMP_BYTES)
  buffer.write(MAGIC, 0, "latin1")
  buffer[2] = VERSION
  buffer[3] = CODEC_ID[codec] | (negative ? NEGATIVE : 0)
  buffer.writeDoubleBE(times.createdAt, 4)
  buffer.writeDoubleBE(times.freshUntil, 12)
  buffer.writeDoubleBE(times.staleUntil, 20)
  buffer.writeUInt32BE(keyBytes, 28)
  let offset = FIXED_HEADER + buffer.write(key, FIXED_HEADER, "utf8")
  buffer.writeUInt16BE(tags.length, offset)
  offset += 2
  for (const tag of tags) {
    const length = buffer.write(tag, offset + 2, "utf8")
    buffer.writeUInt16BE(length, offset)
    offset += 2 + length
  }
  if (json !== undefined) buffer.write(json, offset, "utf8")
  else packed!.copy(buffer, offset)
  // replaced by the write script with the server's time; createdAt (in µs) until then
  buffer.writeDoubleBE(times.createdAt * 1000, buffer.length - STAMP_BYTES)
  return buffer
}

/**
 * Reads the header, or says why the bytes are not an envelope this version
 * understands.
 * @internal
 */
export const decodeHeader = (bytes: Uint8Array): Header | string => {
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (buffer.length < FIXED_HEADER + 2 || buffer[0] !== 0x4c || buffer[1] !== 0x43) {
    return "not a layercake envelope"
  }
  if (buffer[2] !== VERSION) return `unknown envelope version ${buffer[2]}`
  const codec = buffer[3] & ~NEGATIVE
  if (codec !== CODEC_ID.json && codec !== CODEC_ID.msgpack) return `unknown codec id ${buffer[3]}`
  const keyBytes = buffer.readUInt32BE(28)
  let offset = FIXED_HEADER + keyBytes
  if (offset + 2 > buffer.length) return "truncated envelope (key)"
  const keyEnd = offset
  const tagCount = buffer.readUInt16BE(offset)
  offset += 2
  const tags: Array<string> = tagCount === 0 ? NO_TAGS : []
  for (let i = 0; i < tagCount; i++) {
    if (offset + 2 > buffer.length) return "truncated envelope (tags)"
    const length = buffer.readUInt16BE(offset)
    offset += 2
    if (offset + length > buffer.length) return "truncated envelope (tags)"
    tags.push(buffer.toString("utf8", offset, offset + length))
    offset += length
  }
  if (offset + STAMP_BYTES > buffer.length) return "truncated envelope (stamp)"
  return {
    codec,
    negative: (buffer[3] & NEGATIVE) !== 0,
    createdAt: buffer.readDoubleBE(4),
    freshUntil: buffer.readDoubleBE(12),
    staleUntil: buffer.readDoubleBE(20),
    keyEnd,
    tags,
    payloadOffset: offset,
    payloadEnd: buffer.length - STAMP_BYTES,
    stamp: buffer.readDoubleBE(buffer.length - STAMP_BYTES)
  }
}

/**
 * The key the envelope was written for.
 * @internal
 */
export const keyOf = (bytes: Buffer, header: Header): string => bytes.toString("utf8", FIXED_HEADER, header.keyEnd)

/**
 * Whether the envelope was written for `key`. ASCII keys (the usual case) are
 * compared byte by byte, without decoding the stored key into a new string.
 * @internal
 */
export const isFor = (bytes: Buffer, header: Header, key: string): boolean => {
  const length = header.keyEnd - FIXED_HEADER
  if (key.length === length) {
    let i = 0
    for (; i < length; i++) {
      const code = key.charCodeAt(i)
      if (code >= 0x80 || code !== bytes[FIXED_HEADER + i]) break
    }
    if (i === length) return true
    if (key.charCodeAt(i) < 0x80) return false
  } else if (key.length > length) {
    return false // every UTF-16 unit takes at least one byte
  }
  return keyOf(bytes, header) === key
}

/**
 * The payload as the Schema's encoded side. Throws on corrupt bytes.
 * @internal
 */
export const decodePayload = (bytes: Buffer, header: Header): unknown => {
  if (header.codec === CODEC_ID.json) {
    if (header.payloadOffset === header.payloadEnd) return undefined
    return JSON.parse(bytes.toString("utf8", header.payloadOffset, header.payloadEnd))
  }
  return packr.unpack(bytes.subarray(header.payloadOffset, header.payloadEnd))
}
