/** The tinylfu policy through the store it evicts for. */
import { assert, describe, it } from "@effect/vitest"
import type { CacheTier } from "@layercake/core"
import * as Effect from "effect/Effect"
import * as fc from "effect/FastCheck"
import * as Schema from "effect/Schema"
import { HillClimber } from "../src/internal/hillClimber.js"
import type { PolicyName } from "../src/internal/policy.js"
import { Store } from "../src/internal/store.js"
import { admits, type TinyLfuPolicy } from "../src/internal/tinyLfuPolicy.js"

const entry = (value: unknown, staleUntil = Infinity): CacheTier.Entry<unknown> => ({
  value,
  schema: Schema.Unknown,
  createdAt: 0,
  freshUntil: staleUntil,
  staleUntil,
  tags: [],
  negative: false
})

const makeStore = (maxEntries: number, policy: PolicyName = "tinylfu", maxBytes?: number) =>
  new Store({ maxEntries, maxBytes, policy, seed: 7 })

/** Cache-aside: a read, and a write on a miss. Returns whether it hit. */
const request = (store: Store, key: string, now = 0, bytes = 0): boolean => {
  if (store.lookup(key, now) !== undefined) return true
  store.set(key, entry(key), now, bytes)
  return false
}

const areaOf = (store: Store, key: string) => (store.evictionPolicy as TinyLfuPolicy).areaName(store.slotOf(key)!)

describe("tinylfu", () => {
  it("a new entry enters the window, moves to probation, and a read there protects it", () => {
    const store = makeStore(1_000)
    store.set("a", entry("a"), 0, 0)
    assert.strictEqual(areaOf(store, "a"), "window")
    // the window is 1% of 1 000: ten more keys push "a" out to probation
    for (let i = 0; i < 10; i++) store.set(`k${i}`, entry(i), 0, 0)
    assert.strictEqual(areaOf(store, "a"), "probation")
    store.lookup("a", 0)
    assert.strictEqual(areaOf(store, "a"), "protected")
    assert.strictEqual(store.size, 11, "nothing evicted below the bound")
  })

  it("frequently used keys survive a scan of keys used once; with lru they do not", () => {
    const hitsOfHotKeys = (policy: PolicyName) => {
      const store = makeStore(100, policy)
      const hot = Array.from({ length: 10 }, (_, i) => `hot${i}`)
      let hits = 0
      let scanned = 0
      for (let round = 0; round < 5_000; round++) {
        const hit = request(store, hot[round % hot.length])
        if (round >= 100 && hit) hits++
        // 20 keys read once between two reads of the hot set: 200 between two reads of a hot key
        for (let i = 0; i < 20; i++) request(store, `scan${scanned++}`)
      }
      return hits / 4_900
    }
    assert.strictEqual(hitsOfHotKeys("tinylfu"), 1, "every read of a hot key hits once they are known")
    assert.strictEqual(hitsOfHotKeys("lru"), 0, "the scan flushes an lru of 100 entries")
  })

  it("holds exactly maxEntries entries", () => {
    const store = makeStore(1_000)
    for (let i = 0; i < 20_000; i++) {
      request(store, `k${i % 3 === 0 ? i % 700 : i}`)
      assert.isAtMost(store.size, 1_000)
    }
    assert.strictEqual(store.size, 1_000)
    assert.strictEqual(store.keysByRecency().length, 1_000)
    assert.isDefined(store.lookup("k19999", 0), "the last key written is in the window")
  })

  it("evicts expired entries before comparing frequencies", () => {
    const store = makeStore(100)
    for (let i = 0; i < 100; i++) {
      store.set(`short${i}`, entry(i, 10), 0, 0)
      store.lookup(`short${i}`, 0)
      store.lookup(`short${i}`, 0)
    }
    // the short-lived entries are popular, but gone at 10: new keys replace them
    for (let i = 0; i < 100; i++) store.set(`new${i}`, entry(i), 20, 0)
    assert.strictEqual(store.size, 100)
    for (let i = 0; i < 100; i++) assert.isDefined(store.lookup(`new${i}`, 20))
  })

  it("with maxBytes: stays within the byte budget, keeps a popular entry, sizes its window in bytes", () => {
    const maxBytes = 50_000
    const store = makeStore(10_000, "tinylfu", maxBytes)
    assert.deepStrictEqual((store.evictionPolicy as TinyLfuPolicy).maximums, { window: 500, protected: 39_600 })
    let hits = 0
    for (let i = 0; i < 20_000; i++) {
      if (request(store, "popular", 0, 300)) hits++
      request(store, `once${i}`, 0, 100 + ((i * 37) % 900))
      assert.isAtMost(store.bytes, maxBytes)
    }
    assert.strictEqual(hits, 19_999)
    assert.isAbove(store.size, 40)
  })

  it("with maxBytes: an entry heavier than the window competes at once and loses to popular ones", () => {
    const store = makeStore(10_000, "tinylfu", 10_000)
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 20; i++) request(store, `p${i}`, 0, 400)
    }
    assert.strictEqual(store.bytes, 8_000)
    store.set("big", entry("big"), 0, 5_000)
    assert.isUndefined(store.slotOf("big"), "refused: its one use does not beat entries used five times")
    assert.strictEqual(store.size, 20)
  })

  it("moves the window towards what pays: it grows when keys come back soon after their first use", () => {
    const store = makeStore(1_000)
    const policy = store.evictionPolicy as TinyLfuPolicy
    const initial = policy.maximums.window
    // every key is read 3 times within ~300 requests, then never again: only recency can catch that
    let hits = 0
    const requests = 400_000
    for (let i = 0; i < requests / 3; i++) {
      if (request(store, `k${i}`)) hits++
      if (i >= 100 && request(store, `k${i - 100}`)) hits++
      if (i >= 150 && request(store, `k${i - 150}`)) hits++
    }
    assert.isAbove(policy.maximums.window, initial * 10)
    assert.isAbove(hits / requests, 0.5)
  })

  it.effect.prop(
    "never returns a value other than the last one written, and stays within its bounds",
    {
      maxEntries: fc.integer({ min: 1, max: 8 }),
      maxBytes: fc.option(fc.integer({ min: 100, max: 2_000 }), { nil: undefined }),
      commands: fc.array(
        fc.record({
          op: fc.constantFrom("set", "get", "get", "delete", "advance"),
          key: fc.integer({ min: 0, max: 15 }),
          bytes: fc.integer({ min: 1, max: 500 }),
          lifetime: fc.integer({ min: 1, max: 50 })
        }),
        { maxLength: 300 }
      )
    },
    ({ commands, maxBytes, maxEntries }) =>
      Effect.sync(() => {
        const store = makeStore(maxEntries, "tinylfu", maxBytes)
        const written = new Map<string, number>()
        let now = 0
        let counter = 0
        for (const command of commands) {
          const key = `k${command.key}`
          switch (command.op) {
            case "set": {
              const value = counter++
              if (maxBytes === undefined || command.bytes <= maxBytes) {
                store.set(key, entry(value, now + command.lifetime), now, command.bytes)
                written.set(key, value)
                // without a byte bound a new entry is in the window, so it is kept at first
                if (maxBytes === undefined) assert.isDefined(store.slotOf(key))
              }
              break
            }
            case "get": {
              const slot = store.lookup(key, now)
              if (slot !== undefined) assert.strictEqual(store.entryAt(slot).value, written.get(key))
              break
            }
            case "delete":
              store.delete(key)
              written.delete(key)
              assert.isUndefined(store.slotOf(key))
              break
            case "advance":
              now += command.lifetime
              break
          }
          assert.isAtMost(store.size, maxEntries)
          if (maxBytes !== undefined) assert.isAtMost(store.bytes, maxBytes)
          assert.strictEqual(store.keysByRecency().length, store.size)
        }
      }),
    { fastCheck: { numRuns: 300 } }
  )
})

describe("admission", () => {
  it("the more frequent wins, a tie keeps the victim", () => {
    const never = () => 1
    assert.isTrue(admits(3, 2, never))
    assert.isFalse(admits(2, 2, never))
    assert.isFalse(admits(1, 9, never))
  })

  it("a warm candidate (6 or more) wins 1 time in 128 whatever the victim's count; a cold one never", () => {
    let state = 1
    const random = () => (state = (Math.imul(state, 1_103_515_245) + 12_345) | 0) >>> 8
    let warmWins = 0
    let coldWins = 0
    for (let i = 0; i < 128_000; i++) {
      if (admits(6, 15, random)) warmWins++
      if (admits(5, 15, random)) coldWins++
    }
    assert.approximately(warmWins, 1_000, 150)
    assert.strictEqual(coldWins, 0)
  })
})

describe("HillClimber", () => {
  const sample = (climber: HillClimber, hitRate: number) => {
    for (let i = 0; i < 1_000; i++) {
      if (i < hitRate * 1_000) climber.recordHit()
      else climber.recordMiss()
    }
    return climber.adjustment()
  }

  it("starts by shrinking the window of a large cache, growing that of a small one, by 6.25%", () => {
    assert.strictEqual(sample(new HillClimber(10_000), 0.5), -625)
    assert.strictEqual(sample(new HillClimber(100), 0.5), 6)
  })

  it("keeps its direction while the hit rate improves, turns around when it drops, steps shrink", () => {
    const climber = new HillClimber(10_000)
    assert.strictEqual(sample(climber, 0.5), -625)
    assert.strictEqual(sample(climber, 0.52), -625)
    assert.strictEqual(sample(climber, 0.51), 612, "worse: the other way, by 2% less")
    assert.strictEqual(sample(climber, 0.515), 600)
  })

  it("starts over with a full step when the hit rate jumps (a new workload)", () => {
    const climber = new HillClimber(10_000)
    sample(climber, 0.5)
    sample(climber, 0.52)
    assert.strictEqual(sample(climber, 0.8), -612)
    assert.strictEqual(sample(climber, 0.81), -625, "back to a full step")
  })
})
