/**
 * Where the time of one sequential L2 read goes, step by step: raw GET, raw
 * EVALSHA of the read script, the Effect bridge, the tier's call machinery
 * (clock, breaker, deadline, read batch), the whole `RedisTier.get`, and a
 * `Cache.get` that misses a one-entry memory tier and promotes. Variants run
 * side by side in interleaved rounds; medians of wall time and of process CPU
 * time per read. See docs/benchmarks.md, "L2 (Redis): reading".
 *
 * Run: pnpm --filter @layercake/bench exec tsx --conditions=@layercake/source src/l2-breakdown.ts
 */
import { Cache, CacheTier } from "@layercake/core"
import { MemoryTier } from "@layercake/memory"
import { RedisConnection, RedisTier } from "@layercake/redis"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import type { Redis } from "ioredis"
// The steps below the public API are internals of @layercake/redis (not exported): read from its source.
import { makeCalls, type Receiver } from "../../redis/src/internal/call.js"
import * as Commands from "../../redis/src/internal/commands.js"
import * as Fence from "../../redis/src/internal/fence.js"
import { ReadBatch } from "../../redis/src/internal/readBatch.js"
import { startRedis } from "./redis-server.js"

const User = Schema.Struct({ id: Schema.Number, name: Schema.String })
const user = { id: 1, name: "ada" }
const N = Number(process.env.N ?? 20_000)
const ROUNDS = 5

const main = async () => {
  const server = await startRedis()
  const scope = Effect.runSync(Scope.make())
  const context = await Effect.runPromise(
    Layer.buildWithScope(
      Layer.mergeAll(
        RedisTier.layer({ keyPrefix: "tier" }),
        Cache.layer({ namespace: "bench" }).pipe(
          Layer.provide(CacheTier.stack(MemoryTier.layer({ maxEntries: 1 }), RedisTier.layer({ keyPrefix: "cache" })))
        )
      ).pipe(Layer.provideMerge(RedisConnection.layer({ url: server.url }))),
      scope
    )
  )
  const tier = Context.get(context, CacheTier.CacheTier)
  const cache = Context.get(context, Cache.Cache)
  const client = Context.get(context, RedisConnection.RedisConnection).client as Redis
  const now = Date.now()
  const entry = { value: user, schema: User, createdAt: now, freshUntil: now + 1e9, staleUntil: now + 1e9 }
  await Effect.runPromise(tier.set("bench:user", { ...entry, tags: [], negative: false }))
  await Effect.runPromise(Effect.all([cache.set("a", User, user), cache.set("b", User, user)]))
  await client.set("raw:user", JSON.stringify(user))

  const key = "tier:bench:user"
  const commands = Commands.standalone(client, "tier:~tag:", {
    keys: Fence.keys("tier:", false),
    windowMillis: 300_000
  })
  const batch = new ReadBatch(commands, 128)
  const calls = makeCalls({
    name: "probe",
    operationTimeout: 250,
    breaker: { failureThreshold: 5, openForMillis: 5000 }
  })
  const startRead = (k: string, receiver: Receiver<Commands.Raw>) => batch.read(k, receiver)
  const effectLoop = (effect: Effect.Effect<unknown, unknown>) => () =>
    Effect.runPromise(Effect.gen(function*() {
      for (let i = 0; i < N; i++) yield* effect
    }))

  const variants: Record<string, () => Promise<unknown>> = {
    "raw GET + JSON.parse": async () => {
      for (let i = 0; i < N; i++) JSON.parse((await client.get("raw:user"))!)
    },
    "raw GET of the envelope": async () => {
      for (let i = 0; i < N; i++) await client.getBuffer(key)
    },
    "Effect.async(commands.readOne)": effectLoop(Effect.async((resume) => {
      commands.readOne(key, { succeed: (raw) => resume(Effect.succeed(raw)), fail: (e) => resume(Effect.die(e)) })
    })),
    "call + batch, no decode": effectLoop(calls.start("get", startRead, key, (raw) => raw)),
    "RedisTier.get": effectLoop(tier.get("bench:user", User)),
    "Cache.get, L1 miss + promotion": () =>
      Effect.runPromise(Effect.gen(function*() {
        for (let i = 0; i < N / 2; i++) {
          yield* cache.get("a", User)
          yield* cache.get("b", User)
        }
      }))
  }
  const results = new Map<string, Array<readonly [wall: number, cpu: number]>>()
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, run] of Object.entries(variants)) {
      const cpu = process.cpuUsage()
      const start = process.hrtime.bigint()
      await run()
      const wall = Number(process.hrtime.bigint() - start) / N / 1000
      const used = process.cpuUsage(cpu)
      results.set(name, [...(results.get(name) ?? []), [wall, (used.user + used.system) / N]])
    }
  }
  const median = (values: Array<number>) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]
  for (const [name, samples] of results) {
    const wall = median(samples.map(([w]) => w)).toFixed(1)
    const cpu = median(samples.map(([, c]) => c)).toFixed(1)
    console.log(`${name.padEnd(32)} ${wall.padStart(6)} µs/op wall ${cpu.padStart(6)} µs/op CPU`)
  }
  await Effect.runPromise(Scope.close(scope, Exit.void))
  await server.stop()
}
main()
