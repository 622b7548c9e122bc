/**
 * What a cache miss costs while Redis is unreachable: Redis refusing
 * connections (stopped), and Redis hanging (SIGSTOP), with the breaker closed
 * (each call bounded by `operationTimeout`) and open (the tier is skipped).
 *
 * Run: pnpm --filter @layercake/bench exec tsx --conditions=@layercake/source src/redis-down.ts
 */
import { Cache, CacheTier } from "@layercake/core"
import { MemoryTier } from "@layercake/memory"
import { RedisConnection, RedisTier } from "@layercake/redis"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import { Redis } from "ioredis"
import { startRedis as startServer } from "./redis-server.js"

/** A throw-away server this script may stop and pause (SIGSTOP); its pid comes from INFO. */
const startRedis = async () => {
  if (process.env.REDIS_URL) throw new Error("redis-down stops and pauses its own servers: unset REDIS_URL")
  const server = await startServer()
  const probe = new Redis(server.url)
  const pid = Number(/process_id:(\d+)/.exec(await probe.info("server"))?.[1])
  probe.disconnect()
  return {
    url: server.url,
    stop: server.stop,
    pause: () => process.kill(pid, "SIGSTOP"),
    resume: () => process.kill(pid, "SIGCONT")
  }
}

const ms = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6

const buildCache = async (url: string, scope: Scope.Scope) => {
  const tiers = CacheTier.stack(
    MemoryTier.layer(),
    RedisTier.layer({
      keyPrefix: "down",
      operationTimeout: "250 millis",
      circuitBreaker: { failureThreshold: 5, openFor: "5 seconds" }
    })
  )
  const layer = Cache.layer({ namespace: "bench" }).pipe(
    Layer.provide(tiers),
    Layer.provide(RedisConnection.layer({ url }))
  )
  const start = process.hrtime.bigint()
  const cache = await Effect.runPromise(
    Layer.buildWithScope(layer, scope).pipe(
      Effect.map(Context.get(Cache.Cache)),
      Logger.withMinimumLogLevel(LogLevel.None)
    )
  )
  return { cache, buildMs: ms(start) }
}

const misses = async (cache: Cache.Cache, label: string, count: number) => {
  const times: Array<number> = []
  for (let i = 0; i < count; i++) {
    const start = process.hrtime.bigint()
    await Effect.runPromise(
      cache.getOrCompute(`${label}:${i}`, Schema.Number, Effect.succeed(i)).pipe(
        Logger.withMinimumLogLevel(LogLevel.None)
      )
    )
    times.push(ms(start))
  }
  return times
}

const show = (label: string, times: ReadonlyArray<number>) =>
  console.log(`${label.padEnd(52)} ${times.map((t) => t.toFixed(1)).join(", ")} ms`)

const main = async () => {
  const server = await startRedis()
  const scope = Effect.runSync(Scope.make())
  const { cache } = await buildCache(server.url, scope)
  show("Redis up: misses (compute + write to L1 and Redis)", await misses(cache, "up", 5))

  await server.stop()
  show("Redis stopped: misses 1-5 (breaker closed)", await misses(cache, "refused", 5))
  show("Redis stopped: misses 6-10 (breaker open)", await misses(cache, "refused-open", 5))

  const paused = await startRedis()
  const { buildMs: pausedBuild, cache: pausedCache } = await buildCache(paused.url, scope)
  paused.pause()
  show("Redis paused (SIGSTOP): misses 1-5 (breaker closed)", await misses(pausedCache, "hang", 5))
  show("Redis paused (SIGSTOP): misses 6-10 (breaker open)", await misses(pausedCache, "hang-open", 5))
  paused.resume()

  const dead = await startRedis()
  await dead.stop()
  const { buildMs, cache: startedDown } = await buildCache(dead.url, scope)
  console.log(
    `layer build with Redis down at start: ${buildMs.toFixed(1)} ms (build with Redis up: ${pausedBuild.toFixed(1)} ms)`
  )
  show("Redis down since start: misses 1-5", await misses(startedDown, "cold", 5))

  await Effect.runPromise(Scope.close(scope, Exit.void))
  await paused.stop()
  process.exit(0)
}
main()
