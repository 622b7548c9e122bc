/**
 * Redis going away, coming back and hanging. Each test starts its own
 * redis-server (never the shared harness servers) and uses real time, kept
 * short: the timeouts and open periods are a few hundred milliseconds.
 */
import { assert, describe, it } from "@effect/vitest"
import { CacheTier } from "@layercake/core"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as TestClock from "effect/TestClock"
import { RedisConnection, RedisTier } from "../src/index.js"
import { freePort, type RedisServer, startRedis } from "./harness/redisServer.js"
import { buildCache, buildTier, captureConsoleErrors, elapsed, eventually, localTier, unique } from "./utils.js"

const printed = captureConsoleErrors()

const server = (port?: number) =>
  Effect.acquireRelease(
    Effect.promise(() => startRedis(port === undefined ? {} : { port })),
    (server) => Effect.promise(() => server.stop())
  )

/** The cache logs every skipped tier call; the outages below make hundreds. */
const quiet = Logger.withMinimumLogLevel(LogLevel.Error)

const fastTier = (keyPrefix: string) =>
  RedisTier.layer({
    keyPrefix,
    operationTimeout: "100 millis",
    circuitBreaker: { failureThreshold: 3, openFor: "300 millis" }
  })

describe("faults", () => {
  it.scopedLive("Redis down at start: the layer builds at once, the cache answers from compute, then recovers", () =>
    Effect.gen(function*() {
      const port = yield* Effect.promise(freePort)
      const [connection, buildMillis] = yield* elapsed(
        Layer.build(RedisConnection.layer({ url: `redis://127.0.0.1:${port}` }))
      )
      assert.isBelow(buildMillis, 1_000)
      const prefix = unique("down")
      const local = localTier()
      const cache = yield* buildCache({ namespace: "ns" }, CacheTier.stack(local.layer, fastTier(prefix))).pipe(
        Effect.provide(connection)
      )
      const [value, readMillis] = yield* elapsed(cache.getOrCompute("k", Schema.Number, Effect.succeed(1)))
      assert.strictEqual(value, 1)
      assert.isBelow(readMillis, 1_500)
      assert.isAbove((yield* cache.stats).tierErrors, 0)

      // Redis comes up on that port: the tier comes back by itself.
      yield* server(port)
      const reader = yield* buildCache({ namespace: "ns" }, fastTier(prefix)).pipe(Effect.provide(connection))
      yield* eventually(Effect.gen(function*() {
        yield* cache.set("k", Schema.Number, 2)
        return Option.isSome(yield* reader.get("k", Schema.Number))
      }))
      assert.deepStrictEqual(yield* reader.get("k", Schema.Number), Option.some(2))
    }).pipe(quiet))

  it.scopedLive("failFast: an unreachable Redis fails the build, quickly, with RedisConnectionError", () =>
    Effect.gen(function*() {
      const port = yield* Effect.promise(freePort)
      const [result, millis] = yield* elapsed(
        Effect.either(Layer.build(RedisConnection.layer({ url: `redis://127.0.0.1:${port}`, failFast: true })))
      )
      assert.isBelow(millis, 1_000)
      assert.isTrue(Either.isLeft(result))
      const error = Either.getLeft(result).pipe(Option.getOrThrow)
      assert.strictEqual(error._tag, "RedisConnectionError")
      assert.strictEqual(error.reason, "Unavailable")
    }).pipe(quiet))

  it.scopedLive("an unreachable Cluster or Sentinel does not block start-up either", () =>
    Effect.gen(function*() {
      const port = yield* Effect.promise(freePort)
      for (
        const options of [
          { cluster: { nodes: [{ host: "127.0.0.1", port }] } },
          { sentinels: [{ host: "127.0.0.1", port }], name: "mymaster" }
        ]
      ) {
        const [connection, millis] = yield* elapsed(Layer.build(RedisConnection.layer({ options })))
        assert.isBelow(millis, 1_000)
        const cache = yield* buildCache({ namespace: "ns" }, fastTier(unique("down"))).pipe(Effect.provide(connection))
        assert.strictEqual(yield* cache.getOrCompute("k", Schema.Number, Effect.succeed(1)), 1)
      }
    }).pipe(quiet))

  it.scopedLive("Redis killed under load and restarted: no call fails, and the tier recovers", () =>
    Effect.gen(function*() {
      const redis: RedisServer = yield* server()
      const connection = yield* Layer.build(RedisConnection.layer({ url: redis.url }))
      const prefix = unique("killed")
      const local = localTier()
      const writer = yield* buildCache({ namespace: "ns" }, CacheTier.stack(local.layer, fastTier(prefix))).pipe(
        Effect.provide(connection)
      )
      const reader = yield* buildCache({ namespace: "ns" }, fastTier(prefix)).pipe(Effect.provide(connection))
      let calls = 0
      const load = Effect.forever(
        Effect.gen(function*() {
          const key = `k${calls++ % 20}`
          const value = yield* writer.getOrCompute(key, Schema.Number, Effect.succeed(calls))
          assert.isNumber(value)
          yield* writer.set(key, Schema.Number, calls)
          yield* reader.getOrCompute(key, Schema.Number, Effect.succeed(calls))
          yield* Effect.sleep("2 millis")
        })
      )
      const fiber = yield* Effect.forkScoped(load)
      yield* Effect.sleep("100 millis")
      yield* Effect.promise(() => redis.kill())
      yield* Effect.sleep("400 millis")
      assert.isAbove((yield* writer.stats).tierErrors, 0)
      assert.isAbove((yield* reader.stats).tierErrors, 0)
      yield* Effect.promise(() => redis.restart())
      yield* eventually(Effect.gen(function*() {
        yield* writer.set("after", Schema.Number, 1)
        return Option.isSome(yield* reader.get("after", Schema.Number))
      }))
      assert.isNull(fiber.unsafePoll(), "the load never failed")
      const callsBefore = calls
      yield* Effect.sleep("50 millis")
      assert.isAbove(calls, callsBefore, "the load is still running")
    }).pipe(quiet))

  it.scopedLive("Redis paused (SIGSTOP): each call is bounded by the timeout, the breaker opens, and closes after SIGCONT", () =>
    Effect.gen(function*() {
      const redis: RedisServer = yield* server()
      yield* Effect.addFinalizer(() => Effect.sync(() => redis.resume()))
      const connection = yield* Layer.build(RedisConnection.layer({ url: redis.url }))
      const prefix = unique("paused")
      const tier = yield* buildTier({
        keyPrefix: prefix,
        operationTimeout: "100 millis",
        circuitBreaker: { failureThreshold: 3, openFor: "300 millis" }
      }).pipe(Effect.provide(connection))
      const cache = yield* buildCache({ namespace: "ns" }, Layer.succeed(CacheTier.CacheTier, tier)).pipe(
        Effect.provide(connection)
      )
      yield* cache.set("k", Schema.Number, 1)
      assert.deepStrictEqual(yield* cache.get("k", Schema.Number), Option.some(1))

      redis.pause()
      for (let i = 0; i < 3; i++) {
        const [error, millis] = yield* elapsed(Effect.flip(tier.get("ns:k", Schema.Number)))
        assert.strictEqual(error.reason, "Timeout")
        assert.isAtLeast(millis, 80)
        assert.isBelow(millis, 1_500)
      }
      const [open, openMillis] = yield* elapsed(Effect.flip(tier.get("ns:k", Schema.Number)))
      assert.strictEqual(open.reason, "CircuitOpen")
      assert.isBelow(openMillis, 100)
      const [computed, computeMillis] = yield* elapsed(cache.getOrCompute("other", Schema.Number, Effect.succeed(7)))
      assert.strictEqual(computed, 7)
      assert.isBelow(computeMillis, 1_500)

      redis.resume()
      yield* Effect.sleep("350 millis")
      // The probe goes through and closes the circuit; calls work again.
      yield* eventually(Effect.map(Effect.either(tier.get("ns:k", Schema.Number)), Either.isRight))
      assert.deepStrictEqual(yield* cache.get("k", Schema.Number), Option.some(1))
      const stats = yield* cache.stats
      assert.isAbove(stats.tierErrors, 0)
    }).pipe(quiet))

  it.scopedLive("callers interrupted while Redis hangs: their calls still time out and open the breaker", () =>
    Effect.gen(function*() {
      const redis: RedisServer = yield* server()
      yield* Effect.addFinalizer(() => Effect.sync(() => redis.resume()))
      const connection = yield* Layer.build(RedisConnection.layer({ url: redis.url }))
      const tier = yield* buildTier({
        keyPrefix: unique("interrupted"),
        operationTimeout: "100 millis",
        circuitBreaker: { failureThreshold: 3, openFor: "10 seconds" }
      }).pipe(Effect.provide(connection))
      assert.isUndefined(yield* tier.get("ns:k", Schema.Number))

      redis.pause()
      // Three callers give up after 10 ms: each is interrupted at once, not held until the call's deadline.
      for (let i = 0; i < 3; i++) {
        const [error, millis] = yield* elapsed(
          Effect.flip(Effect.timeout(tier.get(`ns:k${i}`, Schema.Number), "10 millis"))
        )
        assert.strictEqual(error._tag, "TimeoutException")
        assert.isBelow(millis, 90)
      }
      // Their Redis calls still end at their deadlines (100 ms, swept every 10 ms), and the breaker counts them:
      // the next call is refused at once, without waiting on Redis.
      yield* Effect.sleep("250 millis")
      const [open, openMillis] = yield* elapsed(Effect.flip(tier.get("ns:k", Schema.Number)))
      assert.strictEqual(open.reason, "CircuitOpen")
      assert.isBelow(openMillis, 50)
      redis.resume()
    }).pipe(quiet))

  it.scopedLive("a connection's resources are released with its scope", () =>
    Effect.gen(function*() {
      const redis: RedisServer = yield* server()
      const connection = yield* Effect.scoped(
        Effect.map(Layer.build(RedisConnection.layer({ url: redis.url })), Context.get(RedisConnection.RedisConnection))
      )
      assert.strictEqual(connection.client.status, "end")
    }).pipe(quiet))

  it.scoped("timeouts and the open period follow the Effect Clock (TestClock)", () =>
    Effect.gen(function*() {
      const redis: RedisServer = yield* server()
      yield* Effect.addFinalizer(() => Effect.sync(() => redis.resume()))
      const connection = yield* Layer.build(RedisConnection.layer({ url: redis.url }))
      const tier = yield* buildTier({
        keyPrefix: unique("test-clock"),
        operationTimeout: "1 minute",
        circuitBreaker: { failureThreshold: 1, openFor: "1 hour" }
      }).pipe(Effect.provide(connection))
      redis.pause()
      const call = yield* Effect.fork(Effect.flip(tier.get("ns:k", Schema.Number)))
      yield* TestClock.adjust("1 minute")
      assert.strictEqual((yield* Fiber.join(call)).reason, "Timeout")
      assert.strictEqual((yield* Effect.flip(tier.get("ns:k", Schema.Number))).reason, "CircuitOpen")
      redis.resume()
      yield* TestClock.adjust("59 minutes")
      assert.strictEqual((yield* Effect.flip(tier.get("ns:k", Schema.Number))).reason, "CircuitOpen")
      yield* TestClock.adjust("1 minute")
      assert.isUndefined(yield* tier.get("ns:k", Schema.Number)) // the probe reaches Redis and closes the circuit
      assert.isUndefined(yield* tier.get("ns:k", Schema.Number))
    }).pipe(quiet))

  it("nothing was printed as an unhandled ioredis error", () => {
    assert.deepStrictEqual(printed.filter((line) => line.includes("Unhandled error event")), [])
  })
})
