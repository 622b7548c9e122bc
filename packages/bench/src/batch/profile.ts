/**
 * Profiles the read side of `bench:batch` alone: `getOrComputeMany` of 100
 * fresh keys (L2 hits), 300 batches, under node:inspector; the top self-time
 * functions go to stdout, the profile to /tmp/prof/batch.cpuprofile.
 */
import { Cache, CacheTier } from "@layercake/core"
import { MemoryTier } from "@layercake/memory"
import { RedisConnection, RedisTier } from "@layercake/redis"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import { mkdirSync, writeFileSync } from "node:fs"
import { Session } from "node:inspector/promises"
import { profile, ProfileSchema } from "../user/profile.js"
import { startRedis } from "../user/redis.js"

const BATCHES = 300
const main = async () => {
  const redis = await startRedis([])
  const layer = Cache.layer({ namespace: "batch", defaultTtl: 600_000 }).pipe(
    Layer.provide(CacheTier.stack(MemoryTier.layer({ maxEntries: 100_000 }), RedisTier.layer({ keyPrefix: "p" }))),
    Layer.provide(RedisConnection.layer({ url: redis.url })),
    Layer.orDie
  )
  const writer = ManagedRuntime.make(layer)
  const reader = ManagedRuntime.make(layer)
  const batches = Array.from({ length: BATCHES }, (_, b) => Array.from({ length: 100 }, (_, i) => `b${b}:${i}`))
  for (const keys of batches) {
    await writer.runPromise(
      Effect.forEach(keys, (key, i) => Cache.set(key, ProfileSchema, profile(i)), { discard: true })
    )
  }
  const never = () => Effect.die("a miss")
  for (const keys of batches.slice(0, 50)) await reader.runPromise(Cache.getOrComputeMany(keys, ProfileSchema, never))
  const session = new Session()
  session.connect()
  await session.post("Profiler.enable")
  await session.post("Profiler.start")
  const start = performance.now()
  for (const keys of batches.slice(50)) await reader.runPromise(Cache.getOrComputeMany(keys, ProfileSchema, never))
  const elapsed = performance.now() - start
  const { profile: cpu } = await session.post("Profiler.stop")
  mkdirSync("/tmp/prof", { recursive: true })
  writeFileSync("/tmp/prof/batch.cpuprofile", JSON.stringify(cpu))
  const byId = new Map(cpu.nodes.map((node) => [node.id, node]))
  const self = new Map<string, number>()
  let total = 0
  cpu.samples!.forEach((id, i) => {
    const node = byId.get(id)!
    const name = `${node.callFrame.functionName || "(anonymous)"} ${
      node.callFrame.url.split("/").slice(-2).join("/")
    }:${node.callFrame.lineNumber}`
    const dt = cpu.timeDeltas![i] ?? 0
    self.set(name, (self.get(name) ?? 0) + dt)
    total += dt
  })
  process.stdout.write(`${(elapsed * 1000 / (BATCHES - 50)).toFixed(0)} µs per batch of 100\n`)
  for (const [name, time] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
    process.stdout.write(`${((time / total) * 100).toFixed(1)}% ${name}\n`)
  }
  await writer.dispose()
  await reader.dispose()
  await redis.stop()
}
main()
