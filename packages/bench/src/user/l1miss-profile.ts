/**
 * Profiles an L2 hit through a cold L1 (MemoryTier over RedisTier) against
 * RedisTier alone: fresh pre-written keys read in a `whileLoop`, the 1 KB
 * profile; prints µs per read of each and the memory stack's top self-time
 * functions (node:inspector).
 */
import { Cache, CacheTier } from "@layercake/core"
import { MemoryTier } from "@layercake/memory"
import { RedisConnection, RedisTier } from "@layercake/redis"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import { Session } from "node:inspector/promises"
import { profile, ProfileSchema } from "./profile.js"
import { startRedis } from "./redis.js"

const N = 4000
const main = async () => {
  const redis = await startRedis([])
  const make = (withMemory: boolean) =>
    ManagedRuntime.make(
      Cache.layer({ namespace: "p", defaultTtl: 600_000 }).pipe(
        Layer.provide(
          withMemory
            ? CacheTier.stack(MemoryTier.layer({ maxEntries: 10_000 }), RedisTier.layer({ keyPrefix: "lm" }))
            : CacheTier.stack(RedisTier.layer({ keyPrefix: "lm" }))
        ),
        Layer.provide(RedisConnection.layer({ url: redis.url })),
        Layer.orDie
      )
    )
  const writer = make(false)
  const keys = Array.from({ length: 6 * N }, (_, i) => `k${i}`)
  await writer.runPromise(
    Effect.forEach(keys, (key, i) => Cache.set(key, ProfileSchema, profile(i)), { concurrency: 64, discard: true })
  )
  const loop = (runtime: ManagedRuntime.ManagedRuntime<Cache.Cache, never>, slice: ReadonlyArray<string>) => {
    let i = 0
    return runtime.runPromise(Effect.whileLoop({
      while: () => i < slice.length,
      body: () => Cache.getOrCompute(slice[i], ProfileSchema, Effect.die("a miss")),
      step: () => i++
    }))
  }
  const memory = make(true)
  const plain = make(false)
  await loop(memory, keys.slice(0, N))
  await loop(plain, keys.slice(N, 2 * N))
  for (
    const [name, runtime, slice] of [["memory + redis", memory, keys.slice(2 * N, 3 * N)], [
      "redis",
      plain,
      keys.slice(3 * N, 4 * N)
    ]] as const
  ) {
    const cpu = process.cpuUsage()
    const t = performance.now()
    await loop(runtime, slice)
    const used = process.cpuUsage(cpu)
    process.stdout.write(
      `${name}: ${((performance.now() - t) * 1000 / N).toFixed(1)} µs per read, CPU ${
        ((used.user + used.system) / N).toFixed(1)
      } µs\n`
    )
  }
  const session = new Session()
  session.connect()
  await session.post("Profiler.enable")
  await session.post("Profiler.start")
  await loop(memory, keys.slice(4 * N, 5 * N))
  const { profile: cpu } = await session.post("Profiler.stop")
  const byId = new Map(cpu.nodes.map((node) => [node.id, node]))
  const parent = new Map<number, number>()
  for (const node of cpu.nodes) for (const child of node.children ?? []) parent.set(child, node.id)
  const nameOf = (id: number) => {
    const node = byId.get(id)!
    return `${node.callFrame.functionName || "(anon)"} ${
      node.callFrame.url.split("/").slice(-2).join("/")
    }:${node.callFrame.lineNumber}`
  }
  const self = new Map<string, number>()
  const inclusive = new Map<string, number>()
  let busy = 0
  cpu.samples!.forEach((id, i) => {
    const name = nameOf(id)
    const dt = cpu.timeDeltas![i] ?? 0
    if (name.startsWith("(idle)")) return
    self.set(name, (self.get(name) ?? 0) + dt)
    busy += dt
    const seen = new Set<string>()
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = nameOf(at)
      if (!seen.has(frame)) {
        seen.add(frame)
        inclusive.set(frame, (inclusive.get(frame) ?? 0) + dt)
      }
    }
  })
  for (const [name, time] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 15)) {
    process.stdout.write(`self ${((time / busy) * 100).toFixed(1)}% ${name}\n`)
  }
  const ours = [...inclusive].filter(([name]) =>
    /(core|memory|redis)\/dist|internal\/(stack|store|tier|readPath|flights|localCopies|envelope|call)/.test(name)
  )
  for (const [name, time] of ours.sort((a, b) => b[1] - a[1]).slice(0, 25)) {
    process.stdout.write(`incl ${((time / busy) * 100).toFixed(1)}% ${name}\n`)
  }
  await Promise.all([memory.dispose(), plain.dispose(), writer.dispose()])
  await redis.stop()
}
main()
