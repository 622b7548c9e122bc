import { assert, describe, it } from "@effect/vitest"
import * as Envelope from "../src/internal/envelope.js"
import { groupBySlot, slotOf } from "../src/internal/slot.js"

const times = { createdAt: 1_700_000_000_123, freshUntil: 1_700_000_060_123, staleUntil: 1_700_000_120_123 }

const roundTrip = (key: string, tags: ReadonlyArray<string>, value: unknown, codec: Envelope.Codec) => {
  const bytes = Envelope.encode(key, times, tags, value, codec)
  const header = Envelope.decodeHeader(bytes)
  if (typeof header === "string") throw new Error(header)
  return { header, value: Envelope.decodePayload(bytes, header), bytes }
}

describe("envelope", () => {
  it("round-trips times, key, tags and the value with both codecs", () => {
    for (const codec of ["json", "msgpack"] as const) {
      const { bytes, header, value } = roundTrip(
        "ns:ключ 🔑:{tag}",
        ["a", "b:c", "ü"],
        { n: 1, s: "x", list: [1, 2] },
        codec
      )
      assert.strictEqual(header.createdAt, times.createdAt)
      assert.strictEqual(header.freshUntil, times.freshUntil)
      assert.strictEqual(header.staleUntil, times.staleUntil)
      assert.strictEqual(Envelope.keyOf(bytes, header), "ns:ключ 🔑:{tag}")
      assert.deepStrictEqual(header.tags, ["a", "b:c", "ü"])
      assert.deepStrictEqual(value, { n: 1, s: "x", list: [1, 2] })
    }
  })

  it("isFor matches the stored key exactly, ASCII or not", () => {
    const check = (stored: string, asked: string) => {
      const { bytes, header } = roundTrip(stored, [], 1, "json")
      return Envelope.isFor(bytes, header, asked)
    }
    assert.isTrue(check("ns:user:1", "ns:user:1"))
    assert.isTrue(check("", ""))
    assert.isTrue(check("ns:ключ 🔑", "ns:ключ 🔑"))
    assert.isFalse(check("ns:user:1", "ns:user:2"))
    assert.isFalse(check("ns:user:1", "ns:user:10"))
    assert.isFalse(check("ns:user:10", "ns:user:1"))
    assert.isFalse(check("ns:ключ", "ns:ключи"))
    // same byte length: "é" is 2 bytes, "ab" too
    assert.isFalse(check("k:ab", "k:é"))
    assert.isFalse(check("k:é", "k:ab"))
    assert.isFalse(check("k:é", "k:è"))
  })

  it("is format 3, and flags a cached failure in the codec byte without changing the codec", () => {
    for (const codec of ["json", "msgpack"] as const) {
      const positive = Envelope.encode("k", times, ["t"], { a: 1 }, codec)
      const negative = Envelope.encode("k", times, ["t"], { a: 1 }, codec, true)
      assert.strictEqual(positive[2], 3)
      assert.strictEqual(negative[2], 3)
      const header = Envelope.decodeHeader(negative) as Envelope.Header
      const plain = Envelope.decodeHeader(positive) as Envelope.Header
      assert.isTrue(header.negative)
      assert.isFalse(plain.negative)
      assert.strictEqual(header.codec, plain.codec)
      assert.deepStrictEqual(header.tags, ["t"])
      assert.deepStrictEqual(Envelope.decodePayload(negative, header), { a: 1 })
      // the stamp (the last 8 bytes) is written by the write script; until then, createdAt in µs
      assert.strictEqual(header.stamp, times.createdAt * 1000)
      assert.strictEqual(header.payloadEnd, negative.length - 8)
    }
  })

  it("keeps fractional and far-future times exactly (float64)", () => {
    const bytes = Envelope.encode("k", { createdAt: 0.5, freshUntil: 8.64e15, staleUntil: 8.64e15 }, [], 1, "json")
    const header = Envelope.decodeHeader(bytes) as Envelope.Header
    assert.strictEqual(header.createdAt, 0.5)
    assert.strictEqual(header.staleUntil, 8.64e15)
  })

  it("json: `undefined` is an empty payload; msgpack: binary, Date, Set and bigint survive", () => {
    assert.strictEqual(roundTrip("k", [], undefined, "json").value, undefined)
    const binary = new Uint8Array([0, 255, 1, 2])
    const { value } = roundTrip("k", [], {
      binary,
      at: new Date(5),
      set: new Set([1]),
      big: 2n ** 63n - 1n,
      empty: new Uint8Array(0)
    }, "msgpack")
    const decoded = value as { binary: Uint8Array; at: Date; set: Set<number>; big: bigint; empty: Uint8Array }
    assert.deepStrictEqual([...decoded.binary], [...binary])
    assert.strictEqual(decoded.at.getTime(), 5)
    assert.isTrue(decoded.set.has(1))
    assert.strictEqual(decoded.big, 2n ** 63n - 1n)
    assert.strictEqual(decoded.empty.length, 0)
  })

  it("says why bytes are not an envelope instead of throwing", () => {
    const good = Envelope.encode("key", times, ["t"], { a: 1 }, "json")
    assert.strictEqual(Envelope.decodeHeader(Buffer.from("hello")), "not a layercake envelope")
    assert.strictEqual(Envelope.decodeHeader(Buffer.alloc(0)), "not a layercake envelope")
    const formatOne = Buffer.from(good)
    formatOne[2] = 1 // the format before the negative flag
    assert.strictEqual(Envelope.decodeHeader(formatOne), "unknown envelope version 1")
    const unknownCodec = Buffer.from(good)
    unknownCodec[3] = 9
    assert.strictEqual(Envelope.decodeHeader(unknownCodec), "unknown codec id 9")
    const hugeKey = Buffer.from(good)
    hugeKey.writeUInt32BE(0xffffff, 28)
    assert.match(Envelope.decodeHeader(hugeKey) as string, /truncated/)
    assert.match(Envelope.decodeHeader(good.subarray(0, 38)) as string, /truncated/)
  })

  it("a corrupt payload throws from decodePayload (the tier maps it to a DecodeFailure)", () => {
    const bytes = Envelope.encode("k", times, [], { a: 1 }, "json")
    const header = Envelope.decodeHeader(bytes) as Envelope.Header
    bytes.fill(0x7b, header.payloadOffset)
    assert.throws(() => Envelope.decodePayload(bytes, header))
  })

  it("refuses tags it cannot represent", () => {
    assert.throws(() => Envelope.encode("k", times, ["x".repeat(70_000)], 1, "json"))
  })
})

describe("cluster slots", () => {
  it("match Redis' CRC16 and hash tag rules", () => {
    // Values from the Redis Cluster specification / CLUSTER KEYSLOT.
    assert.strictEqual(slotOf("foo"), 12182)
    assert.strictEqual(slotOf("bar"), 5061)
    assert.strictEqual(slotOf(""), 0)
    assert.strictEqual(slotOf("{user1000}.following"), slotOf("{user1000}.followers"))
    assert.strictEqual(slotOf("foo{}{bar}"), slotOf("foo{}{bar}"))
    assert.notStrictEqual(slotOf("foo{}{bar}"), slotOf("bar"))
    assert.strictEqual(slotOf("foo{{bar}}zap"), slotOf("{bar"))
    assert.strictEqual(slotOf("foo{bar}{zap}"), slotOf("bar"))
    assert.strictEqual(slotOf(Buffer.from("foo")), 12182)
  })

  it("groups keys by slot, keeping their indexes", () => {
    const groups = groupBySlot(["{a}1", "b", "{a}2"])
    assert.deepStrictEqual(groups.get(slotOf("a")), [0, 2])
    assert.deepStrictEqual(groups.get(slotOf("b")), [1])
  })
})
