/**
 * The L1 hit: the operation users run millions of times. Every case reads one
 * present key, sequentially, inside one program.
 */
import { Cache } from "@layercake/core"
import { MemoryTier } from "@layercake/memory"
import * as EffectCache from "effect/Cache"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import { LRUCache } from "lru-cache"
import { repeat, type Result, timeEffect, timeSync } from "./harness.js"

const OPS = 1_000_000
const User = Schema.Struct({ id: Schema.Number, name: Schema.String })
const user = { id: 1, name: "ada" }

export const run = async (): Promise<ReadonlyArray<Result>> => {
  const results: Array<Result> = []

  const map = new Map([["user:1", user]])
  results.push(timeSync("Map.get", OPS, () => map.get("user:1")))

  const lru = new LRUCache<string, typeof user>({ max: 10_000, ttl: 60_000 })
  lru.set("user:1", user)
  results.push(timeSync("lru-cache get (ttl)", OPS, () => lru.get("user:1")))

  results.push(await timeEffect("Effect.succeed (loop floor)", OPS, (n) => repeat(Effect.succeed(user), n)))

  const effectCache = await Effect.runPromise(
    EffectCache.make({ capacity: 10_000, timeToLive: Duration.minutes(1), lookup: (_: string) => Effect.succeed(user) })
  )
  await Effect.runPromise(effectCache.get("user:1"))
  results.push(await timeEffect("effect Cache.get", OPS, (n) => repeat(effectCache.get("user:1"), n)))

  const cache = await Effect.runPromise(
    // the scope stays open for the whole run: a cache lives as long as its layer
    Effect.flatMap(Scope.make(), (scope) =>
      Effect.map(
        Layer.buildWithScope(Cache.layer({ namespace: "bench" }).pipe(Layer.provide(MemoryTier.layer())), scope),
        Context.get(Cache.Cache)
      ))
  )
  const compute = Effect.succeed(user)
  await Effect.runPromise(cache.getOrCompute("user:1", User, compute))
  results.push(
    await timeEffect(
      "layercake getOrCompute (L1 hit)",
      OPS,
      (n) => repeat(cache.getOrCompute("user:1", User, compute), n)
    )
  )
  results.push(
    await timeEffect(
      "layercake getOrCompute (L1 hit, per-call options)",
      OPS,
      (n) =>
        repeat(Effect.suspend(() => cache.getOrCompute("user:1", User, compute, { ttl: "1 minute", tags: ["t"] })), n)
    )
  )
  results.push(await timeEffect("layercake get (L1 hit)", OPS, (n) => repeat(cache.get("user:1", User), n)))
  return results
}
