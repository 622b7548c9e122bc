/**
 * RedisLock against real servers: the harness' standalone server and cluster
 * for the round trips, and servers of its own for the faults (stopped,
 * paused, a fresh script cache).
 */
import { assert, describe, it } from "@effect/vitest"
import { DistributedLock } from "@layercake/core"
import * as Cause from "effect/Cause"
import * as Config from "effect/Config"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"
import type { Cluster, Redis } from "ioredis"
import { RedisConnection } from "../src/index.js"
import * as RedisLock from "../src/RedisLock.js"
import { type RedisServer, startRedis } from "./harness/redisServer.js"
import {
  captureConsoleErrors,
  client,
  cluster,
  elapsed,
  eventually,
  recordCommands,
  standalone,
  unique
} from "./utils.js"

const printed = captureConsoleErrors()

/** A connection of its own (another instance of a fleet), closed with the scope. */
const connect = (layer: Layer.Layer<RedisConnection.RedisConnection, RedisConnection.RedisConnectionError>) =>
  Effect.orDie(Layer.build(layer))

/** Builds a lock in the current scope. */
const buildLock = (options: RedisLock.Options) =>
  Effect.map(Layer.build(RedisLock.layer(options)), Context.get(DistributedLock.DistributedLock))

const redis = Effect.map(client, (client) => client as Redis)

/** A redis-server of the test's own, stopped with its scope. */
const server = Effect.acquireRelease(
  Effect.promise(() => startRedis()),
  (server) => Effect.promise(() => server.stop())
)

/** A connection to `server`, closed with the scope. */
const connectionTo = (server: RedisServer) => Layer.build(RedisConnection.layer({ url: server.url }))

/** The connection logs every error of an outage. */
const quiet = Logger.withMinimumLogLevel(LogLevel.Error)

const pretty = (exit: Exit.Exit<unknown, unknown>) => Exit.isFailure(exit) ? Cause.pretty(exit.cause) : "no failure"

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe("RedisLock (standalone)", () => {
  it.scoped("acquire, a second acquire finds it held, release, acquire again", () =>
    Effect.gen(function*() {
      const prefix = unique("lock")
      const lock = yield* buildLock({ keyPrefix: prefix, lease: "10 seconds" })
      const raw = yield* redis
      const lockKey = `${prefix}:~lock:ns:k`

      const acquire = lock.tryAcquire("ns:k")
      const first = yield* acquire
      assert.isTrue(Option.isSome(first))
      const lease = Option.getOrThrow(first)
      assert.strictEqual(lease.key, "ns:k")
      assert.match(lease.token, UUID)
      assert.strictEqual(yield* Effect.promise(() => raw.get(lockKey)), lease.token)
      const pttl = yield* Effect.promise(() => raw.pttl(lockKey))
      assert.isAbove(pttl, 9_000)
      assert.isAtMost(pttl, 10_000)

      assert.isTrue(Option.isNone(yield* lock.tryAcquire("ns:k")))
      // another key is another lock
      assert.isTrue(Option.isSome(yield* lock.tryAcquire("ns:other")))

      yield* lock.release(lease)
      assert.strictEqual(yield* Effect.promise(() => raw.exists(lockKey)), 0)
      const again = yield* acquire
      assert.isTrue(Option.isSome(again))
      assert.notStrictEqual(Option.getOrThrow(again).token, lease.token, "every run of the effect has its own token")
      // releasing a lease twice is harmless
      yield* lock.release(lease)
      assert.strictEqual(yield* Effect.promise(() => raw.get(lockKey)), Option.getOrThrow(again).token)
    }).pipe(Effect.provide(standalone())))

  it.scoped("two instances of a fleet share the lock", () =>
    Effect.gen(function*() {
      const prefix = unique("fleet")
      const a = yield* buildLock({ keyPrefix: prefix }).pipe(Effect.provide(yield* connect(standalone())))
      const b = yield* buildLock({ keyPrefix: prefix }).pipe(Effect.provide(yield* connect(standalone())))
      const lease = Option.getOrThrow(yield* a.tryAcquire("ns:k"))
      assert.isTrue(Option.isNone(yield* b.tryAcquire("ns:k")))
      yield* a.release(lease)
      assert.isTrue(Option.isSome(yield* b.tryAcquire("ns:k")))
    }))

  it.scoped("release by a token that does not own the lease does nothing", () =>
    Effect.gen(function*() {
      const prefix = unique("owner")
      const lock = yield* buildLock({ keyPrefix: prefix })
      const raw = yield* redis
      const lease = Option.getOrThrow(yield* lock.tryAcquire("ns:k"))
      yield* lock.release({ key: "ns:k", token: "not-the-owner" })
      yield* lock.release({ key: "ns:k", token: "" })
      assert.strictEqual(yield* Effect.promise(() => raw.get(`${prefix}:~lock:ns:k`)), lease.token)
      assert.isTrue(Option.isNone(yield* lock.tryAcquire("ns:k")))
      assert.isFalse(yield* lock.extend({ key: "ns:k", token: "not-the-owner" }))
    }).pipe(Effect.provide(standalone())))

  it.scopedLive("extend keeps the lease past its original end", () =>
    Effect.gen(function*() {
      const prefix = unique("extend")
      const lock = yield* buildLock({ keyPrefix: prefix, lease: "400 millis" })
      const raw = yield* redis
      const lockKey = `${prefix}:~lock:ns:k`
      const start = Date.now()
      const lease = Option.getOrThrow(yield* lock.tryAcquire("ns:k"))
      yield* Effect.sleep("250 millis")
      assert.isTrue(yield* lock.extend(lease))
      const extendedAt = Date.now()
      const pttl = yield* Effect.promise(() => raw.pttl(lockKey))
      assert.isAbove(pttl, 300, "extend starts a whole lease again")
      // the original lease has ended by now; the extended one has not
      yield* Effect.sleep(Duration.millis(Math.max(0, start + 450 - Date.now())))
      assert.isBelow(Date.now(), extendedAt + 400, "the check ran before the extended lease could end")
      assert.strictEqual(yield* Effect.promise(() => raw.get(lockKey)), lease.token)
      assert.isTrue(Option.isNone(yield* lock.tryAcquire("ns:k")))
    }).pipe(Effect.provide(standalone())))

  it.scoped("extend resets the lease to a whole one; a released or taken-over lease is not extended", () =>
    Effect.gen(function*() {
      const prefix = unique("extend-lost")
      const lock = yield* buildLock({ keyPrefix: prefix, lease: "10 seconds" })
      const raw = yield* redis
      const lockKey = `${prefix}:~lock:ns:k`
      const lease = Option.getOrThrow(yield* lock.tryAcquire("ns:k"))
      // as if most of the lease had gone by
      yield* Effect.promise(() => raw.pexpire(lockKey, 100))
      assert.isTrue(yield* lock.extend(lease))
      assert.isAbove(yield* Effect.promise(() => raw.pttl(lockKey)), 9_000)

      yield* lock.release(lease)
      assert.isFalse(yield* lock.extend(lease), "released")
      assert.strictEqual(yield* Effect.promise(() => raw.exists(lockKey)), 0, "extend does not bring it back")

      const other = Option.getOrThrow(yield* lock.tryAcquire("ns:k"))
      yield* Effect.promise(() => raw.pexpire(lockKey, 5_000))
      assert.isFalse(yield* lock.extend(lease), "taken over by another owner")
      assert.isAtMost(yield* Effect.promise(() => raw.pttl(lockKey)), 5_000, "the other owner's lease is untouched")
      assert.strictEqual(yield* Effect.promise(() => raw.get(lockKey)), other.token)
    }).pipe(Effect.provide(standalone())))

  it.scopedLive("a lease expires after `lease`; then it is free and the old owner cannot extend it", () =>
    Effect.gen(function*() {
      const prefix = unique("expire")
      const lock = yield* buildLock({ keyPrefix: prefix, lease: "200 millis" })
      const raw = yield* redis
      const lockKey = `${prefix}:~lock:ns:k`
      const lease = Option.getOrThrow(yield* lock.tryAcquire("ns:k"))
      const pttl = yield* Effect.promise(() => raw.pttl(lockKey))
      assert.isAbove(pttl, 0)
      assert.isAtMost(pttl, 200)
      assert.isTrue(Option.isNone(yield* lock.tryAcquire("ns:k")))
      // the only wait: what remains of the lease, as Redis counts it
      yield* Effect.sleep(Duration.millis(pttl + 20))
      assert.strictEqual(yield* Effect.promise(() => raw.exists(lockKey)), 0)
      assert.isFalse(yield* lock.extend(lease))
      const next = yield* lock.tryAcquire("ns:k")
      assert.isTrue(Option.isSome(next))
    }).pipe(Effect.provide(standalone())))

  it.scoped("4 instances x 50 concurrent tryAcquire of one key: exactly one owner", () =>
    Effect.gen(function*() {
      const prefix = unique("race")
      const raw = yield* redis
      const locks = yield* Effect.forEach(
        [1, 2, 3, 4],
        () =>
          Effect.flatMap(connect(standalone()), (connection) =>
            buildLock({ keyPrefix: prefix }).pipe(Effect.provide(connection)))
      )
      const won = yield* Effect.forEach(
        locks,
        (lock) =>
          Effect.forEach(
            Array.from({ length: 50 }),
            () =>
              lock.tryAcquire("ns:hot"),
            { concurrency: "unbounded" }
          ),
        { concurrency: "unbounded" }
      ).pipe(Effect.map((results) => results.flat().filter(Option.isSome).map((lease) => lease.value)))
      assert.strictEqual(won.length, 1)
      assert.strictEqual(yield* Effect.promise(() => raw.get(`${prefix}:~lock:ns:hot`)), won[0].token)
    }).pipe(Effect.provide(standalone())))

  it.scoped("keys of every shape; the prefix gets one `:` and may be empty", () =>
    Effect.gen(function*() {
      const raw = yield* redis
      const prefix = unique("shapes")
      for (const [keyPrefix, expected] of [[prefix, `${prefix}:`], [`${prefix}:`, `${prefix}:`], ["", ""]] as const) {
        const lock = yield* buildLock({ keyPrefix })
        for (
          const key of [`${prefix}:ns:plain`, `${prefix}:ns:ключ 🔑`, `${prefix}:ns:{user1}:profile`, `${prefix}:`]
        ) {
          const lease = Option.getOrThrow(yield* lock.tryAcquire(key))
          assert.strictEqual(yield* Effect.promise(() => raw.get(`${expected}~lock:${key}`)), lease.token, key)
          yield* lock.release(lease)
        }
      }
    }).pipe(Effect.provide(standalone())))

  it.scoped("a key that is not well-formed Unicode fails without a round trip", () =>
    Effect.gen(function*() {
      const lock = yield* buildLock({ keyPrefix: unique("ill-formed") })
      const error = yield* Effect.flip(lock.tryAcquire("ns:\uD800"))
      assert.strictEqual(error._tag, "DistributedLockError")
      assert.strictEqual(error.operation, "acquire")
      assert.include(error.message, "well-formed")
      assert.strictEqual((yield* Effect.flip(lock.extend({ key: "ns:\uD800", token: "t" }))).operation, "extend")
      assert.strictEqual((yield* Effect.flip(lock.release({ key: "ns:\uD800", token: "t" }))).operation, "release")
    }).pipe(Effect.provide(standalone())))
})

describe("RedisLock (faults)", () => {
  it.scopedLive("Redis stopped: every call fails with DistributedLockError at once, nothing hangs", () =>
    Effect.gen(function*() {
      const own = yield* server
      const connection = yield* connectionTo(own)
      const lock = yield* buildLock({ keyPrefix: unique("down"), operationTimeout: "200 millis" }).pipe(
        Effect.provide(connection)
      )
      const lease = Option.getOrThrow(yield* lock.tryAcquire("ns:k"))
      yield* Effect.promise(() => own.kill())

      for (let i = 0; i < 3; i++) {
        const [error, millis] = yield* elapsed(Effect.flip(lock.tryAcquire("ns:k")))
        assert.strictEqual(error._tag, "DistributedLockError")
        assert.strictEqual(error.operation, "acquire")
        assert.strictEqual(error.key, "ns:k")
        assert.isBelow(millis, 1_000)
      }
      const [extendError, extendMillis] = yield* elapsed(Effect.flip(lock.extend(lease)))
      assert.strictEqual(extendError.operation, "extend")
      assert.isBelow(extendMillis, 1_000)
      const [releaseError, releaseMillis] = yield* elapsed(Effect.flip(lock.release(lease)))
      assert.strictEqual(releaseError.operation, "release")
      assert.isBelow(releaseMillis, 1_000)
    }).pipe(quiet))

  it.scopedLive("Redis paused: a call fails after operationTimeout; a lease granted late is released", () =>
    Effect.gen(function*() {
      const own = yield* server
      yield* Effect.addFinalizer(() => Effect.sync(() => own.resume()))
      const connection = yield* connectionTo(own)
      const prefix = unique("paused")
      const lock = yield* buildLock({ keyPrefix: prefix, operationTimeout: "100 millis" }).pipe(
        Effect.provide(connection)
      )
      const raw = Context.get(connection, RedisConnection.RedisConnection).client as Redis
      const lockKey = `${prefix}:~lock:ns:k`
      assert.isTrue(Option.isSome(yield* lock.tryAcquire("ns:warm-up")))
      const commands = recordCommands(raw)
      yield* Effect.addFinalizer(() => Effect.sync(() => commands.restore()))

      own.pause()
      const [error, millis] = yield* elapsed(Effect.flip(lock.tryAcquire("ns:k")))
      assert.strictEqual(error.operation, "acquire")
      assert.include(error.message, "no reply from Redis within 100 ms")
      assert.isAtLeast(millis, 90)
      assert.isBelow(millis, 1_000)
      assert.deepStrictEqual(commands.names, ["set"])

      // The SET waited in the socket: Redis runs it when it resumes, and the late OK is given back at once.
      own.resume()
      yield* eventually(Effect.sync(() => commands.names.includes("evalsha")))
      yield* eventually(Effect.map(Effect.promise(() => raw.exists(lockKey)), (n) => n === 0))
      assert.isTrue(Option.isSome(yield* lock.tryAcquire("ns:k")))
    }).pipe(quiet))

  it.scoped("the timeout follows the Effect Clock (TestClock)", () =>
    Effect.gen(function*() {
      const own = yield* server
      yield* Effect.addFinalizer(() => Effect.sync(() => own.resume()))
      const connection = yield* connectionTo(own)
      const lock = yield* buildLock({ keyPrefix: unique("test-clock"), operationTimeout: "1 minute" }).pipe(
        Effect.provide(connection)
      )
      const lease = Option.getOrThrow(yield* lock.tryAcquire("ns:k"))
      own.pause()
      const call = yield* Effect.fork(Effect.flip(lock.extend(lease)))
      yield* TestClock.adjust("1 minute")
      const error = yield* Fiber.join(call)
      assert.strictEqual(error.operation, "extend")
      assert.include(error.message, "within 60000 ms")
      own.resume()
    }).pipe(quiet))

  it.scoped("a server without the scripts cached: EVALSHA, then EVAL once", () =>
    Effect.gen(function*() {
      const own = yield* server
      const connection = yield* connectionTo(own)
      const prefix = unique("noscript")
      const lock = yield* buildLock({ keyPrefix: prefix }).pipe(Effect.provide(connection))
      const raw = Context.get(connection, RedisConnection.RedisConnection).client as Redis
      const commands = recordCommands(raw)
      yield* Effect.addFinalizer(() => Effect.sync(() => commands.restore()))
      const lease = Option.getOrThrow(yield* lock.tryAcquire("ns:k"))
      assert.isTrue(yield* lock.extend(lease))
      assert.isTrue(yield* lock.extend(lease))
      assert.deepStrictEqual(commands.names, ["set", "evalsha", "eval", "evalsha"])
      commands.reset()
      yield* lock.release(lease)
      yield* lock.release(lease)
      assert.deepStrictEqual(commands.names, ["evalsha", "eval", "evalsha"])
      assert.strictEqual(yield* Effect.promise(() => raw.exists(`${prefix}:~lock:ns:k`)), 0)
      assert.isTrue(Option.isSome(yield* lock.tryAcquire("ns:k")))
    }))

  it("nothing was printed as an unhandled ioredis error", () => {
    assert.deepStrictEqual(printed.filter((line) => line.includes("Unhandled error event")), [])
  })
})

describe("RedisLock (cluster, 3 masters)", () => {
  it.scoped("round trip: acquire, held, extend, release, acquire again; keys routed to their slots", () =>
    Effect.gen(function*() {
      const connection = yield* RedisConnection.RedisConnection
      assert.isTrue(connection.isCluster)
      const raw = connection.client as Cluster
      const prefix = unique("cluster")
      const a = yield* buildLock({ keyPrefix: prefix, lease: "10 seconds" })
      const b = yield* buildLock({ keyPrefix: prefix, lease: "10 seconds" }).pipe(
        Effect.provide(yield* connect(cluster()))
      )
      const keys = ["ns:a", "ns:b", "ns:c", "ns:d", "ns:{user1}:profile", "ns:{user1}:settings"]
      const leases = yield* Effect.forEach(keys, (key) => Effect.map(a.tryAcquire(key), Option.getOrThrow))
      for (const [i, key] of keys.entries()) {
        const lockKey = `${prefix}:~lock:${key}`
        assert.strictEqual(yield* Effect.promise(() => raw.get(lockKey)), leases[i].token, key)
        assert.isTrue(Option.isNone(yield* b.tryAcquire(key)), key)
        yield* Effect.promise(() => raw.pexpire(lockKey, 1_000))
        assert.isTrue(yield* a.extend(leases[i]), key)
        assert.isAbove(yield* Effect.promise(() => raw.pttl(lockKey)), 9_000, key)
        assert.isFalse(yield* b.extend({ key, token: "not-the-owner" }), key)
        yield* b.release({ key, token: "not-the-owner" })
        assert.strictEqual(yield* Effect.promise(() => raw.get(lockKey)), leases[i].token, key)
        yield* a.release(leases[i])
        assert.isTrue(Option.isSome(yield* b.tryAcquire(key)), key)
      }
      // the keys are spread over the masters
      const slots = new Set(
        yield* Effect.forEach(keys, (key) => Effect.promise(() => raw.cluster("KEYSLOT", `${prefix}:~lock:${key}`)))
      )
      assert.isAbove(slots.size, 1)
    }).pipe(Effect.provide(cluster())))
})

const optionCases: ReadonlyArray<readonly [option: string, options: unknown, expected: string]> = [
  ["keyPrefix", { keyPrefix: "{app}" }, `RedisLock option "keyPrefix" is invalid: got "{app}"`],
  ["keyPrefix (ill-formed)", { keyPrefix: "app\uD800" }, `RedisLock option "keyPrefix" is invalid: got "app\\ud800"`],
  [
    "keyPrefix (not a string)",
    { keyPrefix: 5 },
    `RedisLock option "keyPrefix" is invalid: got 5, expected a well-formed`
  ],
  ["lease", { lease: 0 }, `RedisLock option "lease" is invalid: got 0, expected a Duration above zero`],
  ["lease (infinite)", { lease: "Infinity" }, `RedisLock option "lease" is invalid: got "Infinity"`],
  ["waitTimeout", { waitTimeout: "soon" }, `RedisLock option "waitTimeout" is invalid: got "soon"`],
  ["operationTimeout", { operationTimeout: -1 }, `RedisLock option "operationTimeout" is invalid: got -1`]
]

describe("RedisLock options", () => {
  for (const [option, options, expected] of optionCases) {
    it.scoped(`${option}: a defect naming the option, the value and what is accepted`, () =>
      Effect.gen(function*() {
        const exit = yield* Effect.exit(Layer.build(RedisLock.layer(options as RedisLock.Options)))
        assert.isTrue(Exit.isFailure(exit) && Cause.isDie(exit.cause), "a defect")
        assert.include(pretty(exit), expected)
      }).pipe(Effect.provide(standalone())))
  }

  it.scoped("defaults: a 10 s lease, a wait of twice the lease", () =>
    Effect.gen(function*() {
      const defaults = yield* buildLock({})
      assert.strictEqual(defaults.leaseMillis, 10_000)
      assert.strictEqual(defaults.waitTimeoutMillis, 20_000)
      const short = yield* buildLock({ lease: "3 seconds" })
      assert.strictEqual(short.leaseMillis, 3_000)
      assert.strictEqual(short.waitTimeoutMillis, 6_000)
      const both = yield* buildLock({ lease: Duration.micros(1500n), waitTimeout: "1 second" })
      assert.strictEqual(both.leaseMillis, 2, "rounded up to whole milliseconds for PX")
      assert.strictEqual(both.waitTimeoutMillis, 1_000)
    }).pipe(Effect.provide(standalone())))

  it.scoped("make: the same lock without a layer", () =>
    Effect.gen(function*() {
      const lock = yield* RedisLock.make({ keyPrefix: unique("make") })
      const lease = Option.getOrThrow(yield* lock.tryAcquire("ns:k"))
      assert.isTrue(yield* lock.extend(lease))
      yield* lock.release(lease)
      assert.isFalse(yield* lock.extend(lease))
    }).pipe(Effect.provide(standalone())))

  it.scoped("layerConfig reads its options from a ConfigProvider", () =>
    Effect.gen(function*() {
      const prefix = unique("config")
      const provider = ConfigProvider.fromMap(
        new Map([["LOCK_PREFIX", prefix], ["LOCK_LEASE", "4 seconds"], ["LOCK_TIMEOUT", "100 millis"]])
      )
      const layer = RedisLock.layerConfig({
        keyPrefix: Config.string("LOCK_PREFIX"),
        lease: Config.duration("LOCK_LEASE"),
        operationTimeout: Config.duration("LOCK_TIMEOUT")
      }).pipe(Layer.orDie, Layer.provide(Layer.setConfigProvider(provider)))
      const lock = Context.get(yield* Layer.build(layer), DistributedLock.DistributedLock)
      assert.strictEqual(lock.leaseMillis, 4_000)
      assert.strictEqual(lock.waitTimeoutMillis, 8_000)
      const lease = Option.getOrThrow(yield* lock.tryAcquire("ns:k"))
      const raw = yield* redis
      assert.strictEqual(yield* Effect.promise(() => raw.get(`${prefix}:~lock:ns:k`)), lease.token)
      yield* lock.release(lease)
    }).pipe(Effect.provide(standalone())))

  it.scoped("layerConfig fails with a ConfigError when an option is missing", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(
        Layer.build(RedisLock.layerConfig({ keyPrefix: Config.string("LOCK_PREFIX") })).pipe(
          Effect.withConfigProvider(ConfigProvider.fromMap(new Map()))
        )
      )
      assert.isTrue(Exit.isFailure(exit) && Cause.isFailure(exit.cause) && !Cause.isDie(exit.cause))
      assert.include(pretty(exit), "LOCK_PREFIX")
    }).pipe(Effect.provide(standalone())))
})
