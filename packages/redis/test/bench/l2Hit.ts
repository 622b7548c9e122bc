/**
 * L2 hit cost against the raw client: `ioredis.get` + `JSON.parse` versus
 *   - the same call run as an Effect (the floor of any Effect API),
 *   - a raw EVALSHA of the tier's read script (the round trip with the tag check),
 *   - `RedisTier.get` (that round trip, the envelope, the Schema decode), and
 *   - `Cache.get` over `CacheTier.stack(local, RedisTier)` that misses L1, reads
 *     Redis and promotes into L1.
 *
 * The variants run interleaved in short rounds and the median per variant is
 * reported, so a busy neighbour on a shared machine disturbs them alike.
 *
 * Run: pnpm --filter @layercake/redis exec tsx --conditions=@layercake/source test/bench/l2Hit.ts
 */
import { Cache, CacheTier } from "@layercake/core"
import { LocalTier } from "@layercake/core/testing"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import { Redis } from "ioredis"
import { RedisConnection, RedisTier } from "../../src/index.js"
import * as Scripts from "../../src/internal/scripts.js"
import { startRedis } from "../harness/redisServer.js"

const OPS = Number(process.env.OPS ?? 2_000)
const ROUNDS = Number(process.env.ROUNDS ?? 15)
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 1)

const User = Schema.Struct({
  id: Schema.Number,
  name: Schema.String,
  email: Schema.String,
  roles: Schema.Array(Schema.String),
  createdAt: Schema.Date
})
const value = {
  id: 42,
  name: "Ada Lovelace",
  email: "ada@example.com",
  roles: ["admin", "editor", "viewer"],
  createdAt: new Date("2024-01-01T00:00:00Z")
}

/** Runs `op` OPS times split over CONCURRENCY workers; µs per op. */
const measure = async (op: () => Promise<unknown>) => {
  const start = process.hrtime.bigint()
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    for (let i = 0; i < OPS / CONCURRENCY; i++) await op()
  }))
  return Number(process.hrtime.bigint() - start) / 1000 / OPS
}

const median = (values: Array<number>) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

const main = async () => {
  const server = await startRedis()
  const raw = new Redis(server.port, "127.0.0.1")
  await raw.set("bench:user", JSON.stringify(Schema.encodeSync(User)(value)))
  const local = LocalTier.make()
  const layer = Layer.mergeAll(
    Cache.layer({ namespace: "bench" }).pipe(
      Layer.provide(CacheTier.stack(local.layer, RedisTier.layer({ keyPrefix: "b" })))
    ),
    RedisTier.layer({ keyPrefix: "b", name: "direct" })
  ).pipe(Layer.provideMerge(RedisConnection.layer({ url: server.url })))
  const scope = Effect.runSync(Scope.make())
  try {
    const context = await Effect.runPromise(Layer.buildWithScope(layer, scope))
    const cache = Context.get(context, Cache.Cache)
    const tier = Context.get(context, CacheTier.CacheTier)
    await Effect.runPromise(cache.set("user", User, value))
    await Effect.runPromise(tier.get("bench:user", User)) // loads the script
    const run = Effect.runPromise
    const variants: Record<string, () => Promise<unknown>> = {
      "raw ioredis get + JSON.parse": () => raw.get("bench:user").then((text) => JSON.parse(text!)),
      "the same inside Effect.runPromise": () =>
        run(Effect.promise(() => raw.get("bench:user").then((text) => JSON.parse(text!)))),
      "raw EVALSHA of the read script": () =>
        raw.callBuffer("evalsha", [Scripts.readOne.sha, 1, "b:bench:user", "b:~tag:"]),
      "RedisTier.get": () => run(tier.get("bench:user", User)),
      "Cache.get, L2 hit + promotion": () => {
        local.entries.clear()
        return run(cache.get("user", User))
      }
    }
    const results: Record<string, Array<number>> = {}
    for (const name of Object.keys(variants)) await measure(variants[name]) // warm up
    for (let round = 0; round < ROUNDS; round++) {
      for (const name of Object.keys(variants)) (results[name] ??= []).push(await measure(variants[name]))
    }
    const baseline = median(results["raw ioredis get + JSON.parse"])
    console.log(`${OPS} ops x ${ROUNDS} rounds, concurrency ${CONCURRENCY}, medians:`)
    for (const name of Object.keys(variants)) {
      const micros = median(results[name])
      console.log(`  ${name.padEnd(32)} ${micros.toFixed(2).padStart(8)} µs/op  ${(micros / baseline).toFixed(2)}x`)
    }
  } finally {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    raw.disconnect()
    await server.stop()
  }
}

main()
