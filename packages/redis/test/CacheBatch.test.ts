import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { RedisTier } from "../src/index.js"
import { slotOf } from "../src/internal/slot.js"
import { buildCache, client, cluster, recordCommands, standalone, unique } from "./utils.js"

/** A batched source recording the keys of each call. */
const source = () => {
  const calls: Array<ReadonlyArray<string>> = []
  const computeMissing = (keys: ReadonlyArray<string>) =>
    Effect.sync(() => {
      calls.push(keys)
      return keys.map((key) => [key, { id: key, score: key.length }] as const)
    })
  return { calls, computeMissing }
}

const Value = Schema.Struct({ id: Schema.String, score: Schema.Number })

/** Redis alone under the cache, so that every read of the batch goes to Redis; the commands it sent. */
const batchOf = (keys: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const keyPrefix = unique("batch")
    const cache = yield* buildCache({ namespace: "ns" }, RedisTier.layer({ keyPrefix }))
    const { calls, computeMissing } = source()
    const recorder = recordCommands(yield* client)
    const first = yield* cache.getOrComputeMany(keys, Value, computeMissing)
    const firstCommands = [...recorder.names]
    recorder.reset()
    const second = yield* cache.getOrComputeMany(keys, Value, computeMissing)
    const secondCommands = [...recorder.names]
    recorder.restore()
    assert.isTrue(first.every((value, i) => Option.getOrThrow(value).id === keys[i]))
    assert.deepStrictEqual(second, first)
    assert.deepStrictEqual(calls, [keys], "one compute, of the 100 keys, the first time only")
    return { keyPrefix, firstCommands, secondCommands }
  })

const count = (names: ReadonlyArray<string>, name: string) => names.filter((n) => n === name).length

describe("Cache.getOrComputeMany over Redis", () => {
  it.scopedLive("standalone: a batch of 100 keys reads with one MGET", () =>
    Effect.gen(function*() {
      const keys = Array.from({ length: 100 }, (_, i) => `user:${i}`)
      const { firstCommands, secondCommands } = yield* batchOf(keys)
      assert.strictEqual(count(firstCommands, "mget"), 1)
      assert.deepStrictEqual(secondCommands, ["mget"], "the second batch: one MGET, all hits")
    }).pipe(Effect.provide(standalone())))

  it.scopedLive("Cluster: one MGET per slot, and one in all when the keys share a hash tag", () =>
    Effect.gen(function*() {
      const keys = Array.from({ length: 100 }, (_, i) => `user:${i}`)
      const { keyPrefix, secondCommands } = yield* batchOf(keys)
      const slots = new Set(keys.map((key) => slotOf(`${keyPrefix}:ns:${key}`)))
      assert.strictEqual(count(secondCommands, "mget"), slots.size)
      assert.strictEqual(secondCommands.length, slots.size)
      const tagged = Array.from({ length: 100 }, (_, i) => `{users}:${i}`)
      const sameSlot = yield* batchOf(tagged)
      assert.deepStrictEqual(sameSlot.secondCommands, ["mget"])
    }).pipe(Effect.provide(cluster())))
})
