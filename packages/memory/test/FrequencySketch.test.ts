import { assert, describe, it } from "@effect/vitest"
import { Doorkeeper } from "../src/internal/doorkeeper.js"
import { FrequencySketch } from "../src/internal/frequencySketch.js"
import { finalMix } from "../src/internal/keyHash.js"

/** Well-spread hashes, as `hashKey` gives. */
const hashOf = (n: number) => finalMix(n * 0x9e3779b9)

describe("FrequencySketch", () => {
  it("counts uses up to 15, the first one in the doorkeeper only", () => {
    const sketch = new FrequencySketch(1_000)
    const key = hashOf(1)
    assert.strictEqual(sketch.frequency(key), 0)
    sketch.increment(key)
    assert.strictEqual(sketch.frequency(key), 1)
    for (let i = 0; i < 3; i++) sketch.increment(key)
    assert.strictEqual(sketch.frequency(key), 4)
    // 1 use in the doorkeeper (cleared by aging) and 3 in the counters (halved): 1 left
    sketch.age()
    assert.strictEqual(sketch.frequency(key), 1)
    const twice = hashOf(2)
    sketch.increment(twice)
    sketch.increment(twice)
    assert.strictEqual(sketch.frequency(twice), 2)
    sketch.age()
    assert.strictEqual(sketch.frequency(twice), 0, "without a doorkeeper it would be 1")
    for (let i = 0; i < 100; i++) sketch.increment(key)
    assert.strictEqual(sketch.frequency(key), 15)
  })

  it("ages: after 10 × capacity uses every count is halved and the doorkeeper cleared", () => {
    const capacity = 64
    const sketch = new FrequencySketch(capacity)
    assert.strictEqual(sketch.sampleSize, 10 * capacity)
    const hot = hashOf(1)
    const once = hashOf(2)
    const other = hashOf(3)
    for (let i = 0; i < 16; i++) sketch.increment(hot)
    sketch.increment(once)
    assert.deepStrictEqual([sketch.frequency(hot), sketch.frequency(once)], [15, 1])
    // the last use before the period ends changes nothing; the one that ends it ages
    for (let uses = 17; uses < sketch.sampleSize - 1; uses++) sketch.increment(other)
    assert.deepStrictEqual([sketch.frequency(hot), sketch.frequency(once)], [15, 1])
    sketch.increment(other)
    assert.deepStrictEqual([sketch.frequency(hot), sketch.frequency(once)], [7, 0], "halved; the doorkeeper forgot")
    sketch.age()
    sketch.age()
    sketch.age()
    assert.strictEqual(sketch.frequency(hot), 0, "a key no longer used fades away")
  })

  it("the next aging comes after half a period: the use count is halved too", () => {
    const sketch = new FrequencySketch(64)
    const hot = hashOf(1)
    let uses = 0
    const useOther = () => sketch.increment(hashOf(1_000 + (uses++ % 50)))
    for (let i = 0; i < 16; i++) sketch.increment(hot)
    uses = 16
    while (sketch.frequency(hot) === 15) useOther()
    const firstAging = uses
    assert.strictEqual(firstAging, sketch.sampleSize)
    while (sketch.frequency(hot) === 7) useOther()
    // half a period, plus Caffeine's allowance for the halves truncated away (a quarter of the odd counters)
    assert.isAtLeast(uses - firstAging, sketch.sampleSize / 2)
    assert.isAtMost(uses - firstAging, sketch.sampleSize * 0.6)
  })

  it("keeps the counts when it grows", () => {
    const sketch = new FrequencySketch(64)
    const keys = Array.from({ length: 40 }, (_, i) => hashOf(i))
    keys.forEach((key, i) => {
      for (let n = 0; n <= i % 10; n++) sketch.increment(key)
    })
    const before = keys.map((key) => sketch.frequency(key))
    sketch.grow(1_024)
    assert.deepStrictEqual(keys.map((key) => sketch.frequency(key)), before)
    assert.strictEqual(sketch.sampleSize, 10_240)
  })

  it("estimates never fall below the true count (count-min)", () => {
    const sketch = new FrequencySketch(256)
    const counts = new Map<number, number>()
    // fewer uses than one period: no aging
    for (let i = 0; i < 2_000; i++) {
      const key = hashOf(Math.floor(Math.pow(Math.random(), 3) * 500))
      sketch.increment(key)
      counts.set(key, (counts.get(key) ?? 0) + 1)
    }
    for (const [key, count] of counts) assert.isAtLeast(sketch.frequency(key), Math.min(15, count))
  })
})

describe("Doorkeeper", () => {
  it("tells a first sighting from a later one, forgets on clear, remembers through grow", () => {
    const doorkeeper = new Doorkeeper(1_000)
    const keys = Array.from({ length: 200 }, (_, i) => hashOf(i))
    for (const key of keys) assert.isTrue(doorkeeper.add(key), "first sighting")
    for (const key of keys) {
      assert.isTrue(doorkeeper.contains(key))
      assert.isFalse(doorkeeper.add(key), "seen before")
    }
    doorkeeper.grow(100_000)
    for (const key of keys) assert.isTrue(doorkeeper.contains(key), "no false negative after growing")
    doorkeeper.clear()
    assert.isTrue(keys.every((key) => !doorkeeper.contains(key)))
  })

  it("has few false positives at its nominal load", () => {
    const doorkeeper = new Doorkeeper(10_000)
    for (let i = 0; i < 10_000; i++) doorkeeper.add(hashOf(i))
    let falsePositives = 0
    for (let i = 10_000; i < 20_000; i++) if (doorkeeper.contains(hashOf(i))) falsePositives++
    assert.isBelow(falsePositives / 10_000, 0.06)
  })
})
