/**
 * `ReadBatch`: single-key reads coalesced into one command per tick.
 *
 * The unit tests drive it with fake commands whose replies the test settles by
 * hand, and let ticks pass with `process.nextTick` / `setImmediate` (no
 * sleeps). The integration test runs many concurrent `get`s through a real
 * tier and counts, on the server, the script calls they cost.
 */
import { assert, describe, it } from "@effect/vitest"
import type { CacheTier } from "@layercake/core"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { Redis } from "ioredis"
import { RedisConnection } from "../src/index.js"
import type { Receiver } from "../src/internal/call.js"
import type { Commands, Raw } from "../src/internal/commands.js"
import { ReadBatch } from "../src/internal/readBatch.js"
import { startRedis } from "./harness/redisServer.js"
import { buildTier, entry, recordCommands, unique } from "./utils.js"

// ---------------------------------------------------------------------------
// Fakes
// ---------------------------------------------------------------------------

interface Deferred<A> {
  readonly promise: Promise<A>
  readonly resolve: (value: A) => void
  readonly reject: (error: unknown) => void
}

const deferred = <A>(): Deferred<A> => {
  let resolve!: (value: A) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<A>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

/** How the test answers a recorded command. */
interface Reply<A> {
  readonly resolve: (value: A) => void
  readonly reject: (error: unknown) => void
}

type Call =
  | { readonly command: "readOne"; readonly key: string; readonly reply: Reply<Raw> }
  | { readonly command: "read"; readonly keys: ReadonlyArray<string>; readonly reply: Reply<ReadonlyArray<Raw>> }

const unused = (): never => {
  throw new Error("unused")
}

/** Commands that record every read and answer only when the test says so. */
const fakeCommands = () => {
  const calls: Array<Call> = []
  const state = { readOneThrows: undefined as unknown, readThrows: undefined as unknown }
  const commands: Commands = {
    readOne: (key, receiver) => {
      if (state.readOneThrows !== undefined) throw state.readOneThrows
      const reply: Reply<Raw> = {
        resolve: (raw) => receiver.succeed(raw),
        reject: (error) => receiver.fail(error)
      }
      calls.push({ command: "readOne", key, reply })
    },
    read: (keys) => {
      if (state.readThrows !== undefined) throw state.readThrows
      const reply = deferred<ReadonlyArray<Raw>>()
      calls.push({ command: "read", keys: [...keys], reply })
      return reply.promise
    },
    write: unused,
    unlink: unused,
    readPlain: unused,
    tagTimes: unused,
    now: unused,
    markClear: unused,
    invalidateTags: unused,
    scanTargets: unused,
    scan: unused,
    unlinkOn: unused
  }
  /** What was sent, without the deferred replies: `key` for readOne, `[keys]` for read. */
  const sent = () => calls.map((call) => call.command === "readOne" ? call.key : call.keys)
  const readOneAt = (i: number) => {
    const call = calls[i]
    assert.strictEqual(call.command, "readOne")
    return call as Extract<Call, { command: "readOne" }>
  }
  const readAt = (i: number) => {
    const call = calls[i]
    assert.strictEqual(call.command, "read")
    return call as Extract<Call, { command: "read" }>
  }
  return { commands, calls, state, sent, readOneAt, readAt }
}

type Outcome = { readonly _tag: "Success"; readonly raw: Raw } | { readonly _tag: "Failure"; readonly cause: unknown }

/** A receiver that records every report (a correct batch reports exactly once). */
const recorder = () => {
  const outcomes: Array<Outcome> = []
  const receiver: Receiver<Raw> = {
    succeed: (raw) => {
      outcomes.push({ _tag: "Success", raw })
    },
    fail: (cause) => {
      outcomes.push({ _tag: "Failure", cause })
    }
  }
  return { receiver, outcomes }
}

/** A batch over fake commands, with one read (`firstKey`) sent and not yet answered. */
const withReadInFlight = (maxKeys = 128, firstKey = "first") => {
  const fake = fakeCommands()
  const batch = new ReadBatch(fake.commands, maxKeys)
  const first = recorder()
  batch.read(firstKey, first.receiver)
  return { batch, fake, first }
}

/** The one reply a receiver got. */
const successOf = (outcomes: ReadonlyArray<Outcome>): Raw => {
  assert.strictEqual(outcomes.length, 1, "exactly one report")
  const outcome = outcomes[0]
  if (outcome._tag !== "Success") return assert.fail(`expected a reply, got a failure: ${String(outcome.cause)}`)
  return outcome.raw
}

/** The one failure a receiver got. */
const failureOf = (outcomes: ReadonlyArray<Outcome>): unknown => {
  assert.strictEqual(outcomes.length, 1, "exactly one report")
  const outcome = outcomes[0]
  if (outcome._tag !== "Failure") return assert.fail("expected a failure, got a reply")
  return outcome.cause
}

const raw = (label: string): Raw => [Buffer.from(label), null]

/** Lets the `process.nextTick` queue run (the batch's flush is scheduled there). */
const nextTick = () => new Promise<void>((resolve) => process.nextTick(resolve))

/** Lets every pending tick and promise reaction run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve))

// ---------------------------------------------------------------------------
// Unit
// ---------------------------------------------------------------------------

describe("ReadBatch (fake commands)", () => {
  it("an idle read goes out at once, as readOne, before any tick", async () => {
    const fake = fakeCommands()
    const batch = new ReadBatch(fake.commands, 128)
    const a = recorder()
    batch.read("a", a.receiver)
    assert.deepStrictEqual(fake.sent(), ["a"])
    assert.strictEqual(fake.calls[0].command, "readOne")
    const reply = raw("A")
    fake.readOneAt(0).reply.resolve(reply)
    await settle()
    assert.strictEqual(successOf(a.outcomes), reply)
    assert.deepStrictEqual(fake.sent(), ["a"])
  })

  it("reads issued while one is in flight go out together at nextTick, as one read, keys in order", async () => {
    const { batch, fake, first } = withReadInFlight()
    const keys = ["k1", "k2", "k3", "k4", "k5"]
    const receivers = keys.map(() => recorder())
    keys.forEach((key, i) => batch.read(key, receivers[i].receiver))
    // Queued, not sent: only the first read is out.
    assert.deepStrictEqual(fake.sent(), ["first"])
    await nextTick()
    assert.deepStrictEqual(fake.sent(), ["first", keys])
    const replies = keys.map((key) => raw(key.toUpperCase()))
    fake.readAt(1).reply.resolve(replies)
    await settle()
    receivers.forEach((receiver, i) => assert.strictEqual(successOf(receiver.outcomes), replies[i], keys[i]))
    assert.deepStrictEqual(first.outcomes, [], "the first read is still in flight")
    const firstReply = raw("FIRST")
    fake.readOneAt(0).reply.resolve(firstReply)
    await settle()
    assert.strictEqual(successOf(first.outcomes), firstReply)
    assert.strictEqual(fake.calls.length, 2)
  })

  it("a key asked twice in a batch is read once, and every receiver of it gets the reply", async () => {
    const { batch, fake } = withReadInFlight()
    const a1 = recorder()
    const b = recorder()
    const a2 = recorder()
    const a3 = recorder()
    batch.read("a", a1.receiver)
    batch.read("b", b.receiver)
    batch.read("a", a2.receiver)
    batch.read("a", a3.receiver)
    await nextTick()
    assert.deepStrictEqual(fake.sent(), ["first", ["a", "b"]])
    const replyA = raw("A")
    const replyB = raw("B")
    fake.readAt(1).reply.resolve([replyA, replyB])
    await settle()
    assert.strictEqual(successOf(a1.outcomes), replyA)
    assert.strictEqual(successOf(a2.outcomes), replyA)
    assert.strictEqual(successOf(a3.outcomes), replyA)
    assert.strictEqual(successOf(b.outcomes), replyB)
  })

  it("the same key as the one in flight is queued (read again), not joined to it", async () => {
    const fake = fakeCommands()
    const batch = new ReadBatch(fake.commands, 128)
    const first = recorder()
    const again = recorder()
    batch.read("k", first.receiver)
    batch.read("k", again.receiver)
    await nextTick()
    // A batch of one key goes out as readOne.
    assert.deepStrictEqual(fake.sent(), ["k", "k"])
    assert.strictEqual(fake.calls[1].command, "readOne")
    const one = raw("1")
    const two = raw("2")
    fake.readOneAt(1).reply.resolve(two)
    fake.readOneAt(0).reply.resolve(one)
    await settle()
    assert.strictEqual(successOf(first.outcomes), one)
    assert.strictEqual(successOf(again.outcomes), two)
  })

  it("a batch reaching maxKeys is flushed at once: 7 queued reads with maxKeys 3 go out as 3, 3, then 1 at nextTick", async () => {
    const { batch, fake } = withReadInFlight(3, "k0")
    const keys = ["k1", "k2", "k3", "k4", "k5", "k6", "k7"]
    const receivers = keys.map(() => recorder())
    keys.forEach((key, i) => batch.read(key, receivers[i].receiver))
    // The two full batches left synchronously, with no tick in between.
    assert.deepStrictEqual(fake.sent(), ["k0", ["k1", "k2", "k3"], ["k4", "k5", "k6"]])
    await nextTick()
    assert.deepStrictEqual(fake.sent(), ["k0", ["k1", "k2", "k3"], ["k4", "k5", "k6"], "k7"])
    assert.deepStrictEqual(fake.calls.map((call) => call.command), ["readOne", "read", "read", "readOne"])
    const replies = keys.map((key) => raw(key.toUpperCase()))
    fake.readOneAt(0).reply.resolve(raw("K0"))
    fake.readAt(2).reply.resolve(replies.slice(3, 6))
    fake.readOneAt(3).reply.resolve(replies[6])
    fake.readAt(1).reply.resolve(replies.slice(0, 3))
    await settle()
    receivers.forEach((receiver, i) => assert.strictEqual(successOf(receiver.outcomes), replies[i], keys[i]))
    assert.strictEqual(fake.calls.length, 4)
  })

  it("a rejected read fails every receiver with its error; later reads still work and an idle read goes out at once again", async () => {
    const { batch, fake, first } = withReadInFlight()
    const a1 = recorder()
    const a2 = recorder()
    const b = recorder()
    batch.read("a", a1.receiver)
    batch.read("b", b.receiver)
    batch.read("a", a2.receiver)
    await nextTick()
    assert.deepStrictEqual(fake.sent(), ["first", ["a", "b"]])
    const error = new Error("boom")
    fake.readAt(1).reply.reject(error)
    await settle()
    assert.strictEqual(failureOf(a1.outcomes), error)
    assert.strictEqual(failureOf(a2.outcomes), error)
    assert.strictEqual(failureOf(b.outcomes), error)

    // The first read is still in flight: a new read is queued, and batched.
    const c = recorder()
    batch.read("c", c.receiver)
    assert.strictEqual(fake.calls.length, 2)
    await nextTick()
    assert.deepStrictEqual(fake.sent(), ["first", ["a", "b"], "c"])
    const firstReply = raw("FIRST")
    const replyC = raw("C")
    fake.readOneAt(0).reply.resolve(firstReply)
    fake.readOneAt(2).reply.resolve(replyC)
    await settle()
    assert.strictEqual(successOf(first.outcomes), firstReply)
    assert.strictEqual(successOf(c.outcomes), replyC)

    // Everything settled (one of it failed): nothing is counted in flight, so
    // the next read goes out at once, as readOne, before any tick.
    const later = recorder()
    batch.read("later", later.receiver)
    assert.deepStrictEqual(fake.sent(), ["first", ["a", "b"], "c", "later"])
    assert.strictEqual(fake.calls[3].command, "readOne")
    const laterReply = raw("LATER")
    fake.readOneAt(3).reply.resolve(laterReply)
    await settle()
    assert.strictEqual(successOf(later.outcomes), laterReply)
  })

  it("a readOne that reports a failure fails its receiver, and the next idle read goes out at once", async () => {
    const fake = fakeCommands()
    const batch = new ReadBatch(fake.commands, 128)
    const a = recorder()
    batch.read("a", a.receiver)
    const error = new Error("down")
    fake.readOneAt(0).reply.reject(error)
    await settle()
    assert.strictEqual(failureOf(a.outcomes), error)
    const b = recorder()
    batch.read("b", b.receiver)
    assert.deepStrictEqual(fake.sent(), ["a", "b"])
    assert.strictEqual(fake.calls[1].command, "readOne")
  })

  it("a readOne that throws synchronously fails the receiver instead of throwing out of read", async () => {
    const fake = fakeCommands()
    const batch = new ReadBatch(fake.commands, 128)
    const error = new Error("thrown")
    fake.state.readOneThrows = error
    const a = recorder()
    assert.doesNotThrow(() => batch.read("a", a.receiver))
    await settle()
    assert.strictEqual(failureOf(a.outcomes), error)
    // Recovered: the next read goes out at once.
    fake.state.readOneThrows = undefined
    const b = recorder()
    batch.read("b", b.receiver)
    assert.deepStrictEqual(fake.sent(), ["b"])
    const reply = raw("B")
    fake.readOneAt(0).reply.resolve(reply)
    await settle()
    assert.strictEqual(successOf(b.outcomes), reply)
  })

  it("a read that throws synchronously at the flush fails every receiver of the batch", async () => {
    const { batch, fake, first } = withReadInFlight()
    const error = new Error("thrown")
    fake.state.readThrows = error
    const a1 = recorder()
    const a2 = recorder()
    const b = recorder()
    batch.read("a", a1.receiver)
    batch.read("b", b.receiver)
    batch.read("a", a2.receiver)
    await nextTick() // the flush runs here, and must not throw out of the tick
    await settle()
    assert.strictEqual(failureOf(a1.outcomes), error)
    assert.strictEqual(failureOf(a2.outcomes), error)
    assert.strictEqual(failureOf(b.outcomes), error)
    fake.state.readThrows = undefined
    const firstReply = raw("FIRST")
    fake.readOneAt(0).reply.resolve(firstReply)
    await settle()
    assert.strictEqual(successOf(first.outcomes), firstReply)
    const later = recorder()
    batch.read("later", later.receiver)
    assert.deepStrictEqual(fake.sent(), ["first", "later"])
  })
})

// ---------------------------------------------------------------------------
// Integration
// ---------------------------------------------------------------------------

/**
 * A redis-server of this test's own (the harness's, as in Faults.test.ts): the
 * shared one also serves the other test files, running in parallel, whose
 * script calls would show in its `INFO commandstats`.
 */
const dedicatedServer = Effect.acquireRelease(
  Effect.promise(() => startRedis()),
  (server) => Effect.promise(() => server.stop())
)

/** A plain client, apart from the tier's, to read the server's stats. */
const statsClient = (url: string) =>
  Effect.acquireRelease(
    Effect.sync(() => new Redis(url)),
    (client) => Effect.promise(() => client.quit().catch(() => "OK"))
  )

/** How many EVALSHA calls the server has run (`cmdstat_evalsha:calls=N`, 0 when none yet). */
const mgetCalls = (client: Redis) =>
  Effect.promise(async () => {
    const info = await client.info("commandstats")
    const match = /^cmdstat_mget:calls=(\d+)/m.exec(info)
    return match === null ? 0 : Number(match[1])
  })

describe("ReadBatch (real tier)", () => {
  it.scopedLive("300 concurrent gets (with repeats and misses) cost a handful of MGETs, and each reads its value", () =>
    Effect.gen(function*() {
      const server = yield* dedicatedServer
      const connection = yield* Layer.build(RedisConnection.layer({ url: server.url }))
      const tier = yield* buildTier({ keyPrefix: unique("coalesce") }).pipe(Effect.provide(connection))
      const stats = yield* statsClient(server.url)
      const now = yield* Clock.currentTimeMillis

      const count = 300
      const valueOf = (i: number) => `value-${i}`
      yield* tier.setMany(
        Array.from({ length: count }, (_, i) => [`ns:${i}`, entry(valueOf(i), Schema.String, now)] as const)
      )

      const keys = [
        ...Array.from({ length: count }, (_, i) => `ns:${i}`),
        ...Array.from({ length: 40 }, (_, i) => `ns:${(i * 7) % count}`),
        "ns:missing-1",
        "ns:missing-2",
        "ns:300",
        "ns:missing-1"
      ]
      const expected = keys.map((key) => {
        const i = /^ns:(\d+)$/.exec(key)
        return i === null || Number(i[1]) >= count ? undefined : valueOf(Number(i[1]))
      })

      const recorder = recordCommands(Context.get(connection, RedisConnection.RedisConnection).client)
      const before = yield* mgetCalls(stats)
      const results = yield* Effect.all(keys.map((key) => tier.get(key, Schema.String)), {
        concurrency: "unbounded"
      }).pipe(Effect.ensuring(Effect.sync(() => recorder.restore())))
      const after = yield* mgetCalls(stats)
      const mgets = after - before

      assert.deepStrictEqual(
        results.map((result) => result === undefined ? undefined : (result as CacheTier.Entry<string>).value),
        expected
      )
      // What the client sent is what the server ran: MGETs only
      assert.deepStrictEqual(recorder.names.filter((name) => name !== "mget"), [])
      assert.strictEqual(recorder.names.length, mgets)
      assert.isAbove(mgets, 0)
      assert.isBelow(mgets, 20, `${keys.length} gets cost ${mgets} MGET calls`)
    }))
})
