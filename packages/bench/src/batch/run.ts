/**
 * `pnpm bench:batch`: a batch of 100 L2 reads (fresh keys, the ~1 KB profile
 * with its Schema, memory over Redis) as users make it, in one run:
 * `Cache.getOrComputeMany` of the 100 keys, 100 `Cache.getOrCompute` calls
 * in one program (concurrent, and one after another), and raw ioredis `MGET`
 * + `JSON.parse` of the same 100 values as the reference. One `runPromise`
 * per batch. Samples interleaved; medians. Redis is the bench's own
 * redis-server, pinned to CPU 0 when `taskset` exists (run the script with
 * `taskset -c 1` to keep the client on the other CPU, as `pnpm bench:batch` does).
 */
import { Cache, CacheTier } from "@layercake/core"
import { MemoryTier } from "@layercake/memory"
import { RedisConnection, RedisTier } from "@layercake/redis"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Option from "effect/Option"
import { Redis } from "ioredis"
import { execFileSync } from "node:child_process"
import { performance } from "node:perf_hooks"
import { profile, ProfileSchema } from "../user/profile.js"
import { startRedis } from "../user/redis.js"

const BATCH = 100
const SAMPLES = Number(process.env.SAMPLES ?? 60)
const WARMUP = 10

const hasTaskset = (() => {
  try {
    execFileSync("taskset", ["-V"], { stdio: "ignore" })
    return true
  } catch {
    return false
  }
})()

const median = (values: ReadonlyArray<number>) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

const main = async () => {
  const redis = await startRedis(hasTaskset ? ["taskset", "-c", "0"] : [])
  const raw = new Redis(redis.url)
  const layer = (prefix: string) =>
    Cache.layer({ namespace: "batch", defaultTtl: 600_000 }).pipe(
      Layer.provide(CacheTier.stack(MemoryTier.layer({ maxEntries: 10_000 }), RedisTier.layer({ keyPrefix: prefix }))),
      Layer.provide(RedisConnection.layer({ url: redis.url })),
      Layer.orDie
    )
  const writer = ManagedRuntime.make(layer("bench-batch"))
  const reader = ManagedRuntime.make(layer("bench-batch"))
  await reader.runPromise(Effect.void)
  let computes = 0
  const computeMissing = (keys: ReadonlyArray<string>) =>
    Effect.sync(() => {
      computes += keys.length
      return new Map(keys.map((key) => [key, profile(0)]))
    })
  let round = 0
  /** 100 keys no one has read yet, written to Redis (and the raw copies) by another instance. */
  const freshKeys = async () => {
    const keys = Array.from({ length: BATCH }, (_, i) => `r${round}:${i}`)
    round++
    await writer.runPromise(
      Effect.forEach(keys, (key, i) => Cache.set(key, ProfileSchema, profile(i)), { concurrency: 64, discard: true })
    )
    await raw.mset(keys.flatMap((key, i) => [`raw:${key}`, JSON.stringify(profile(i))]))
    return keys
  }
  const contenders: Record<string, (keys: ReadonlyArray<string>) => Promise<unknown>> = {
    "raw ioredis MGET + JSON.parse": async (keys) => {
      const values = await raw.mget(keys.map((key) => `raw:${key}`))
      return values.map((value) => JSON.parse(value!))
    },
    "layercake getOrComputeMany (one call)": (keys) =>
      reader.runPromise(Cache.getOrComputeMany(keys, ProfileSchema, computeMissing)).then((values) => {
        if (!values.every(Option.isSome)) throw new Error("a miss")
        return values
      }),
    "layercake 100 × getOrCompute, concurrent": (keys) =>
      reader.runPromise(
        Effect.forEach(keys, (key) => Cache.getOrCompute(key, ProfileSchema, Effect.die("a miss")), {
          concurrency: "unbounded"
        })
      ),
    "layercake 100 × getOrCompute, one after another": (keys) =>
      reader.runPromise(Effect.forEach(keys, (key) => Cache.getOrCompute(key, ProfileSchema, Effect.die("a miss"))))
  }
  const names = Object.keys(contenders)
  const samples: Record<string, Array<number>> = Object.fromEntries(names.map((name) => [name, []]))
  for (let i = 0; i < WARMUP + SAMPLES; i++) {
    for (const name of names) {
      const keys = await freshKeys()
      const start = performance.now()
      await contenders[name](keys)
      const elapsed = performance.now() - start
      if (i >= WARMUP) samples[name].push(elapsed * 1000)
    }
  }
  const stats = await reader.runPromise(Cache.stats)
  if (computes > 0 || stats.perTier[0].hits > 0) throw new Error(`not all L2 hits: ${JSON.stringify(stats)}`)
  const reference = median(samples[names[0]])
  const lines = [
    `batch of ${BATCH} L2 hits (fresh keys, ~1 KB profile with its Schema, memory over Redis), ${SAMPLES} samples, medians`,
    `Redis: ${redis.description}; client ${hasTaskset ? "run under `taskset -c 1` by pnpm bench:batch" : "unpinned"}`,
    "",
    "| contender | µs per batch | µs per key | ratio |",
    "|---|---|---|---|",
    ...names.map((name) => {
      const value = median(samples[name])
      return `| ${name} | ${value.toFixed(0)} | ${(value / BATCH).toFixed(2)} | ${(value / reference).toFixed(2)}× |`
    })
  ]
  process.stdout.write(lines.join("\n") + "\n")
  await writer.dispose()
  await reader.dispose()
  raw.disconnect()
  await redis.stop()
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`)
  process.exit(1)
})
