import { assert, describe, it, layer } from "@effect/vitest"
import { Validate } from "@layercake/core"
import * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Queue from "effect/Queue"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type { Cluster } from "ioredis"
import { inject } from "vitest"
import { RedisConnection } from "../src/index.js"
import { slotOf } from "../src/internal/slot.js"
import * as RedisStreams from "../src/RedisStreams.js"
import { startRedis } from "./harness/redisServer.js"
import { client, cluster, standalone, unique } from "./utils.js"

const Event = Schema.Struct({ n: Schema.NumberFromString, kind: Schema.String })
const event = (n: number) => ({ n, kind: "test" })
const numbers = (entries: ReadonlyArray<RedisStreams.StreamEntry<{ readonly n: number }>>) =>
  entries.map((entry) => entry.fields.n)

const publishAll = (stream: string, from: number, to: number, options?: RedisStreams.PublishOptions) =>
  Effect.forEach(
    Array.from({ length: to - from + 1 }, (_, i) => from + i),
    (n) => RedisStreams.publish(stream, Event, event(n), options)
  )

const raw = (...args: Array<string | number>) =>
  Effect.flatMap(client, (redis) => Effect.promise(() => redis.call(args[0] as string, args.slice(1))))

/** A connection whose clients (the shared one and its duplicates) carry `name` in CLIENT LIST. */
const named = (name: string) => RedisConnection.layer({ url: inject("redisUrl"), options: { connectionName: name } })

/** The clients named `name`, as CLIENT LIST fields. */
const clientsNamed = (name: string) =>
  Effect.map(
    raw("CLIENT", "LIST", "TYPE", "normal"),
    (list) =>
      String(list).trim().split("\n").map((line) =>
        Object.fromEntries(line.split(" ").map((field) => field.split("=", 2) as [string, string]))
      ).filter((fields) => fields.name === name)
  )

/** Waits until a client named `name` other than `except` is blocked (in XREAD); its id. */
const awaitBlocked = (name: string, except?: string) =>
  clientsNamed(name).pipe(
    Effect.flatMap((clients) => {
      const blocked = clients.find((fields) => fields.flags.includes("b") && fields.id !== except)
      return blocked === undefined ? Effect.fail("not blocked yet") : Effect.succeed(blocked.id)
    }),
    Effect.retry(Schedule.spaced("10 millis")),
    Effect.timeout("5 seconds"),
    Effect.orDie
  )

const defectOf = <A, E>(exit: Exit.Exit<A, E>) => Exit.isFailure(exit) ? Cause.dieOption(exit.cause) : Option.none()

layer(standalone())("RedisStreams (standalone)", (it) => {
  it.effect("publish then readLatest: the newest entries, oldest first, decoded", () =>
    Effect.gen(function*() {
      const stream = unique("stream")
      const ids = yield* publishAll(stream, 1, 5)
      assert.match(ids[0], /^\d+-\d+$/)
      const latest = yield* RedisStreams.readLatest(stream, Event, 3)
      assert.deepStrictEqual(latest.map((entry) => entry.id), ids.slice(2))
      assert.deepStrictEqual(latest.map((entry) => entry.fields), [event(3), event(4), event(5)])
      assert.deepStrictEqual(yield* RedisStreams.readLatest(unique("missing"), Event, 3), [])
    }))

  it.effect("read from an id: the entries after it, bounded by count", () =>
    Effect.gen(function*() {
      const stream = unique("stream")
      const ids = yield* publishAll(stream, 1, 5)
      assert.deepStrictEqual(numbers(yield* RedisStreams.read(stream, Event, "0")), [1, 2, 3, 4, 5])
      const after = yield* RedisStreams.read(stream, Event, ids[1], { count: 2 })
      assert.deepStrictEqual(after.map((entry) => entry.id), [ids[2], ids[3]])
      assert.deepStrictEqual(yield* RedisStreams.read(stream, Event, ids[4]), [])
    }))

  it.effect("maxLen trims: exactly with exact: true, to at least maxLen with ~", () =>
    Effect.gen(function*() {
      const exact = unique("exact")
      yield* publishAll(exact, 1, 30, { maxLen: 10, exact: true })
      assert.strictEqual(yield* raw("XLEN", exact), 10)
      assert.deepStrictEqual(numbers(yield* RedisStreams.readLatest(exact, Event, 100)), [
        ...Array.from({ length: 10 }, (_, i) => 21 + i)
      ])

      const approximate = unique("approximate")
      yield* publishAll(approximate, 1, 300, { maxLen: 10 })
      const length = (yield* raw("XLEN", approximate)) as number
      assert.isAtLeast(length, 10)
      assert.isBelow(length, 300)
      const newest = yield* RedisStreams.readLatest(approximate, Event, 1)
      assert.deepStrictEqual(numbers(newest), [300])
    }))

  it.effect("entries that do not decode are skipped and counted, not an error", () =>
    Effect.gen(function*() {
      const stream = unique("stream")
      yield* RedisStreams.publish(stream, Event, event(1))
      const foreign = yield* raw("XADD", stream, "*", "n", "not a number", "kind", "x")
      yield* raw("XADD", stream, "*", "other", "shape")
      yield* RedisStreams.publish(stream, Event, event(4))
      const failures = Metric.value(Metric.tagged(RedisStreams.decodeFailures, "stream", stream))

      assert.deepStrictEqual(numbers(yield* RedisStreams.readLatest(stream, Event, 10)), [1, 4])
      assert.strictEqual((yield* failures).count, 2)
      assert.deepStrictEqual(numbers(yield* RedisStreams.read(stream, Event, "0")), [1, 4])
      assert.strictEqual((yield* failures).count, 4)
      // a subscription moves past them
      const fromForeign = yield* RedisStreams.subscribe(stream, Event, String(foreign)).pipe(
        Stream.take(1),
        Stream.runCollect
      )
      assert.deepStrictEqual(numbers([...fromForeign]), [4])
    }))

  it.effect("publish: a ParseError for fields that do not encode; a RedisStreamsError for Redis' refusal", () =>
    Effect.gen(function*() {
      const stream = unique("stream")
      const Strict = Schema.Struct({ n: Schema.compose(Schema.NumberFromString, Schema.Int) })
      const parseError = yield* Effect.flip(RedisStreams.publish(stream, Strict, { n: 1.5 }))
      assert.isTrue(ParseResult.isParseError(parseError))

      const empty = yield* Effect.flip(RedisStreams.publish(stream, Schema.Struct({}), {}))
      assert.strictEqual(empty._tag, "RedisStreamsError")
      assert.match(empty.message, /at least one field/)

      const notAStream = unique("string")
      yield* raw("SET", notAStream, "x")
      const wrongType = yield* Effect.flip(RedisStreams.publish(notAStream, Event, event(1)))
      assert.instanceOf(wrongType, RedisStreams.RedisStreamsError)
      assert.strictEqual(wrongType._tag, "RedisStreamsError")
      assert.strictEqual(wrongType.operation, "publish")
      assert.strictEqual(wrongType.stream, notAStream)
      assert.match(wrongType.message, /WRONGTYPE/)
      const readError = yield* Effect.flip(RedisStreams.readLatest(notAStream, Event, 1))
      assert.strictEqual(readError.operation, "readLatest")
      // a subscription cannot mend it by retrying: it fails
      const subscribeError = yield* Effect.flip(Stream.runDrain(RedisStreams.subscribe(notAStream, Event, "0")))
      assert.strictEqual(subscribeError.operation, "subscribe")
    }))

  it.effect("optional fields: an absent one is not written and reads back absent", () =>
    Effect.gen(function*() {
      const stream = unique("stream")
      const Optional = Schema.Struct({ a: Schema.String, b: Schema.optional(Schema.String) })
      yield* RedisStreams.publish(stream, Optional, { a: "x" })
      yield* RedisStreams.publish(stream, Optional, { a: "y", b: "z" })
      const entries = yield* RedisStreams.readLatest(stream, Optional, 2)
      assert.deepStrictEqual(entries.map((entry) => entry.fields), [{ a: "x" }, { a: "y", b: "z" }])
    }))

  it.effect("invalid arguments are defects naming the option", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [string, Effect.Effect<unknown, unknown, RedisConnection.RedisConnection>]> =
        [
          ["stream", RedisStreams.publish("", Event, event(1))],
          ["maxLen", RedisStreams.publish("s", Event, event(1), { maxLen: 0 })],
          ["count", RedisStreams.readLatest("s", Event, 1.5)],
          ["fromId", RedisStreams.read("s", Event, "latest")],
          ["block", RedisStreams.read("s", Event, "0", { block: -1 })],
          ["stream", Stream.runDrain(RedisStreams.subscribe("\uD800", Event))]
        ]
      for (const [option, effect] of cases) {
        const defect = defectOf(yield* Effect.exit(effect))
        assert.isTrue(Option.isSome(defect) && defect.value instanceof Validate.InvalidOptionError, option)
        assert.strictEqual((Option.getOrThrow(defect) as Validate.InvalidOptionError).option, option)
      }
    }))
})

describe("RedisStreams blocking reads (standalone)", () => {
  it.scopedLive("a blocking read returns when another fiber publishes; the shared client is never blocked", () => {
    const name = unique("blocking")
    return Effect.gen(function*() {
      const stream = unique("stream")
      const reader = yield* Effect.fork(RedisStreams.read(stream, Event, "$", { block: "10 seconds" }))
      const blocked = yield* awaitBlocked(name)
      const shared = yield* raw("CLIENT", "ID")
      assert.notStrictEqual(blocked, String(shared))
      const id = yield* RedisStreams.publish(stream, Event, event(7))
      const entries = yield* Fiber.join(reader)
      assert.deepStrictEqual(entries, [{ id, fields: event(7) }])
      // the read's own connection is closed once it is done
      assert.strictEqual((yield* clientsNamed(name)).length, 1)
    }).pipe(Effect.provide(named(name)))
  })

  it.scopedLive("a blocking read with nothing to read gives nothing at the end of its block", () =>
    Effect.gen(function*() {
      const entries = yield* RedisStreams.read(unique("stream"), Event, "$", { block: "50 millis" })
      assert.deepStrictEqual(entries, [])
    }).pipe(Effect.provide(standalone())))

  it.scopedLive("interrupted mid-block, a read or a subscription leaves no connection behind, at once", () => {
    const name = unique("interrupted")
    return Effect.gen(function*() {
      const stream = unique("stream")
      assert.strictEqual((yield* clientsNamed(name)).length, 1)
      const blockedReaders = [
        RedisStreams.read(stream, Event, "$", { block: Infinity }),
        Stream.runDrain(RedisStreams.subscribe(stream, Event))
      ]
      for (const reader of blockedReaders) {
        const fiber = yield* Effect.fork(reader)
        yield* awaitBlocked(name)
        assert.strictEqual((yield* clientsNamed(name)).length, 2)
        const [took] = yield* Effect.timed(Fiber.interrupt(fiber))
        // disconnected, not left to a QUIT that would wait behind the blocked XREAD (1 s, then dropped)
        assert.isBelow(Duration.toMillis(took), 500)
        assert.strictEqual((yield* clientsNamed(name)).length, 1, "only the shared client is left")
      }
    }).pipe(Effect.provide(named(name)))
  })
})

describe("RedisStreams.subscribe (standalone)", () => {
  it.scopedLive("from \"$\": the entries published after it started, not those before", () => {
    const name = unique("subscribe")
    return Effect.gen(function*() {
      const stream = unique("stream")
      yield* publishAll(stream, 1, 2)
      const subscriber = yield* Effect.fork(
        RedisStreams.subscribe(stream, Event).pipe(Stream.take(3), Stream.runCollect)
      )
      yield* awaitBlocked(name)
      yield* publishAll(stream, 3, 5)
      assert.deepStrictEqual(numbers([...yield* Fiber.join(subscriber)]), [3, 4, 5])
      // the consumer stopped: the subscription's connection is closed
      assert.strictEqual((yield* clientsNamed(name)).length, 1)
    }).pipe(Effect.provide(named(name)))
  })

  it.scopedLive("from an earlier id: the entries after it, then the new ones", () =>
    Effect.gen(function*() {
      const stream = unique("stream")
      const ids = yield* publishAll(stream, 1, 3)
      const subscriber = yield* Effect.fork(
        RedisStreams.subscribe(stream, Event, ids[0]).pipe(Stream.take(4), Stream.runCollect)
      )
      yield* publishAll(stream, 4, 5)
      const entries = [...yield* Fiber.join(subscriber)]
      assert.deepStrictEqual(numbers(entries), [2, 3, 4, 5])
      assert.deepStrictEqual(entries.slice(0, 2).map((entry) => entry.id), ids.slice(1))
    }).pipe(Effect.provide(standalone())))

  it.scopedLive("a killed connection: it reconnects and goes on from the last id, nothing lost or repeated", () => {
    const name = unique("reconnect")
    return Effect.gen(function*() {
      const stream = unique("stream")
      const received = yield* Queue.unbounded<RedisStreams.StreamEntry<{ readonly n: number }>>()
      yield* Effect.forkScoped(
        Stream.runForEach(RedisStreams.subscribe(stream, Event, "0"), (entry) => Queue.offer(received, entry))
      )
      yield* publishAll(stream, 1, 3)
      const first = yield* Queue.takeN(received, 3)

      const before = yield* awaitBlocked(name)
      assert.strictEqual(yield* raw("CLIENT", "KILL", "ID", before), 1)
      // published while the subscription's connection is down
      yield* publishAll(stream, 4, 6)
      const second = yield* Queue.takeN(received, 3)
      yield* awaitBlocked(name, before) // a new connection, blocked again: it has read all there is
      assert.deepStrictEqual(numbers([...first, ...second]), [1, 2, 3, 4, 5, 6])
      assert.strictEqual(new Set([...first, ...second].map((entry) => entry.id)).size, 6)
      assert.strictEqual(yield* Queue.size(received), 0)
    }).pipe(Effect.provide(named(name)))
  })
})

describe("RedisStreams.subscribe (a server of its own)", () => {
  it.scopedLive("Redis killed and restarted: the subscription retries and goes on after the last id it read", () =>
    Effect.gen(function*() {
      const redis = yield* Effect.acquireRelease(
        Effect.promise(() => startRedis()),
        (server) => Effect.promise(() => server.stop())
      )
      const connection = yield* Layer.build(RedisConnection.layer({ url: redis.url }))
      return yield* Effect.gen(function*() {
        const stream = unique("stream")
        const received = yield* Queue.unbounded<RedisStreams.StreamEntry<{ readonly n: number }>>()
        const retried = yield* Deferred.make<void>()
        const subscription = yield* Effect.forkScoped(
          Stream.runForEach(RedisStreams.subscribe(stream, Event, "0"), (entry) => Queue.offer(received, entry)).pipe(
            Effect.provide(Logger.add(Logger.make(({ message }) => {
              if (String(message).includes("retrying from the last id")) Deferred.unsafeDone(retried, Exit.void)
            }))),
            Logger.withMinimumLogLevel(LogLevel.Debug)
          )
        )
        yield* publishAll(stream, 1, 3)
        assert.deepStrictEqual(numbers([...yield* Queue.takeN(received, 3)]), [1, 2, 3])

        yield* Effect.promise(() => redis.kill())
        // down long enough for ioredis to give up on the blocked XREAD: the subscription's own retry takes over
        yield* Deferred.await(retried)
        yield* Effect.promise(() => redis.restart())
        // the shared client fails fast until it has reconnected
        yield* publishAll(stream, 4, 6).pipe(Effect.retry(Schedule.spaced("50 millis")), Effect.timeout("10 seconds"))
        // the restarted server has no persistence: only the new entries, all after the last id read
        const after = yield* Queue.takeN(received, 3).pipe(Effect.timeout("10 seconds"))
        assert.deepStrictEqual(numbers([...after]), [4, 5, 6])
        assert.isNull(subscription.unsafePoll(), "the subscription did not fail")
      }).pipe(Effect.provide(connection))
    }))
})

describe("RedisStreams (cluster)", () => {
  it.scopedLive("publish, readLatest, read and subscribe on a Cluster", () =>
    Effect.gen(function*() {
      const connection = yield* RedisConnection.RedisConnection
      assert.isTrue(connection.isCluster)
      const stream = unique("cluster-stream")
      const ids = yield* publishAll(stream, 1, 3)
      assert.deepStrictEqual(numbers(yield* RedisStreams.readLatest(stream, Event, 2)), [2, 3])
      assert.deepStrictEqual(numbers(yield* RedisStreams.read(stream, Event, ids[0])), [2, 3])

      const subscriber = yield* Effect.fork(
        RedisStreams.subscribe(stream, Event, ids[2]).pipe(Stream.take(1), Stream.runCollect)
      )
      const blocking = yield* Effect.fork(RedisStreams.read(stream, Event, ids[2], { block: "10 seconds" }))
      yield* RedisStreams.publish(stream, Event, event(4))
      assert.deepStrictEqual(numbers([...yield* Fiber.join(subscriber)]), [4])
      assert.deepStrictEqual(numbers(yield* Fiber.join(blocking)), [4])

      // the stream is one key, on one master
      const keysInSlot = yield* Effect.promise(() =>
        Promise.all(
          (connection.client as Cluster).nodes("master").map((node) =>
            node.call("CLUSTER", ["COUNTKEYSINSLOT", slotOf(stream)])
          )
        )
      )
      assert.deepStrictEqual(keysInSlot.map(Number).sort(), [0, 0, 1])
    }).pipe(Effect.provide(cluster())))
})
