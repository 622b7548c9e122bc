/**
 * `pnpm --filter @layercake/bench exec tsx src/fleet-l2.ts`: what the fleet
 * machinery costs a caller, sequentially, one `runPromise` per call, a ~1 KB
 * nested value with its Schema, a fresh key per read:
 *
 * - L2 hit: `Cache.getOrCompute` over memory + Redis with `RedisBus` and
 *   `RedisLock` attached, each read a key not in L1, against raw ioredis
 *   `get` + `JSON.parse` of the same bytes' worth of JSON;
 * - miss: `Cache.getOrCompute` of a fresh key (fence point, compute, fenced
 *   write) with and without the lock, against raw ioredis `get` + `set`.
 */
import { Cache, CacheTier } from "@layercake/core"
import { MemoryTier } from "@layercake/memory"
import { RedisBus, RedisConnection, RedisLock, RedisTier } from "@layercake/redis"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Schema from "effect/Schema"
import { Redis } from "ioredis"
import { startRedis } from "./redis-server.js"

const Item = Schema.Struct({
  sku: Schema.String,
  qty: Schema.Number,
  price: Schema.Number,
  tags: Schema.Array(Schema.String)
})
const Order = Schema.Struct({
  id: Schema.String,
  customer: Schema.Struct({ id: Schema.Number, name: Schema.String, email: Schema.String }),
  items: Schema.Array(Item),
  placedAt: Schema.Number
})
const order = (id: string): typeof Order.Type => ({
  id,
  customer: { id: 42, name: "Ada Lovelace", email: "ada@example.com" },
  items: Array.from(
    { length: 8 },
    (_, i) => ({ sku: `sku-${i}-abcdef`, qty: i + 1, price: 9.99 * (i + 1), tags: ["a", "bb", "ccc"] })
  ),
  placedAt: 1_764_700_000_000
})

const N = Number(process.env.FLEET_L2_N ?? 5_000)

const time = async (label: string, run: (i: number) => Promise<unknown>) => {
  for (let i = 0; i < 500; i++) await run(N + i) // warm-up on other keys
  const start = process.hrtime.bigint()
  for (let i = 0; i < N; i++) await run(i)
  const micros = Number(process.hrtime.bigint() - start) / 1e3 / N
  return { label, micros }
}

const main = async () => {
  const redis = await startRedis()
  const raw = new Redis(redis.url)
  const layers = (prefix: string, lock: boolean) => {
    const cache = Cache.layer({ namespace: "bench" }).pipe(
      Layer.provide(CacheTier.stack(MemoryTier.layer({ maxEntries: 100_000 }), RedisTier.layer({ keyPrefix: prefix }))),
      Layer.provide(RedisBus.layer({ keyPrefix: prefix }))
    )
    return (lock ? cache.pipe(Layer.provide(RedisLock.layer({ keyPrefix: prefix }))) : cache).pipe(
      Layer.provide(RedisConnection.layer({ url: redis.url })),
      Layer.orDie,
      Layer.provide(Logger.minimumLogLevel(LogLevel.Error))
    )
  }
  const writer = ManagedRuntime.make(layers("hit", false))
  const reader = ManagedRuntime.make(layers("hit", true))
  const withLock = ManagedRuntime.make(layers("miss-lock", true))
  const noLock = ManagedRuntime.make(layers("miss", false))
  const json = JSON.stringify(order("x"))
  for (let i = 0; i < N + 500; i++) {
    await writer.runPromise(Cache.set(`k${i}`, Order, order(`k${i}`)))
    await raw.set(`raw:k${i}`, json)
  }
  const results = [
    await time("raw ioredis get + JSON.parse (fresh key)", (i) => raw.get(`raw:k${i}`).then((s) => JSON.parse(s!))),
    await time(
      "L2 hit: Cache.getOrCompute, memory + Redis + RedisBus + RedisLock (fresh key)",
      (i) => reader.runPromise(Cache.getOrCompute(`k${i}`, Order, Effect.die("not expected")))
    ),
    await time("raw ioredis get (miss) + set", (i) => raw.get(`raw:m${i}`).then(() => raw.set(`raw:m${i}`, json))),
    await time(
      "miss: Cache.getOrCompute, fence point + compute + fenced write, with RedisBus",
      (i) => noLock.runPromise(Cache.getOrCompute(`m${i}`, Order, Effect.sync(() => order(`m${i}`))))
    ),
    await time(
      "miss: the same with RedisLock (lease + re-read + release)",
      (i) => withLock.runPromise(Cache.getOrCompute(`m${i}`, Order, Effect.sync(() => order(`m${i}`))))
    )
  ]
  const base = results[0].micros
  const missBase = results[2].micros
  for (const [index, { label, micros }] of results.entries()) {
    const ratio = micros / (index < 2 ? base : missBase)
    console.log(`${label.padEnd(84)} ${micros.toFixed(1).padStart(7)} µs  ${ratio.toFixed(2)}×`)
  }
  await Promise.all([writer.dispose(), reader.dispose(), withLock.dispose(), noLock.dispose()])
  await raw.quit()
  await redis.stop()
}

main().then(() => process.exit(0), (error) => {
  console.error(error)
  process.exit(1)
})
