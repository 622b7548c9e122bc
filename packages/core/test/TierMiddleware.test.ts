import { assert, describe, it } from "@effect/vitest"
import { Cache, CacheTier } from "@layercake/core"
import { FaultyTier, LocalTier, SharedTier, TestHelpers } from "@layercake/core/testing"
import * as Conformance from "@layercake/core/testing/conformance"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as TestClock from "effect/TestClock"

const tierOf = <E>(layer: Layer.Layer<CacheTier.CacheTier, E>) =>
  Effect.map(Layer.build(layer), Context.get(CacheTier.CacheTier))

const entry = (value: string): CacheTier.Entry<string> => ({
  value,
  schema: Schema.String,
  createdAt: 0,
  freshUntil: 60_000,
  staleUntil: 60_000,
  tags: [],
  negative: false
})

/** A shared tier behind `faults`, with `middleware` applied to its layer; `k` holds "v". */
const faultyShared = (faults: FaultyTier.Faults, ...middleware: ReadonlyArray<CacheTier.Middleware>) =>
  Effect.gen(function*() {
    const layer = middleware.reduce(
      (layer, wrap) => wrap(layer),
      FaultyTier.layer(faults, SharedTier.layer({ name: "shared" }))
    )
    const tier = yield* tierOf(layer)
    yield* tier.set("k", entry("v"))
    faults.calls.set = 0
    return tier
  })

/** The `TierError` an exit failed with. */
const tierErrorOf = <A>(exit: Exit.Exit<A, CacheTier.TierError>): CacheTier.TierError => {
  if (Exit.isSuccess(exit)) throw new Error(`expected a failure, got ${String(exit.value)}`)
  const failure = Cause.failureOption(exit.cause)
  if (Option.isNone(failure)) throw new Error(`expected a TierError, got ${Cause.pretty(exit.cause)}`)
  return failure.value
}

const callsOf = (faults: FaultyTier.Faults) => Effect.sync(() => faults.calls.get)

/** Waits until the tier behind `faults` has seen `n` gets. */
const untilGets = (faults: FaultyTier.Faults, n: number) => TestHelpers.waitFor(callsOf(faults), (calls) => calls >= n)

describe("CacheTier.withTimeout", () => {
  it.scoped("a stalled operation fails with reason Timeout, naming the tier, when the TestClock reaches the bound", () =>
    Effect.gen(function*() {
      const faults = FaultyTier.makeFaults()
      const tier = yield* faultyShared(faults, CacheTier.withTimeout({ timeout: "50 millis" }))
      faults.stall("1 second")
      const reader = yield* Effect.fork(Effect.exit(tier.get("k", Schema.String)))
      yield* untilGets(faults, 1)
      yield* TestClock.adjust("49 millis")
      assert.isNull(reader.unsafePoll())
      yield* TestClock.adjust("1 millis")
      const error = tierErrorOf(yield* Fiber.join(reader))
      assert.strictEqual(error.reason, "Timeout")
      assert.strictEqual(error.tier, "shared")
      assert.strictEqual(error.operation, "get")
      faults.heal()
      assert.strictEqual(((yield* tier.get("k", Schema.String)) as CacheTier.Entry<string>).value, "v")
    }))

  it.scoped("the bound holds in an uninterruptible region (where the Cache stores computed values)", () =>
    Effect.gen(function*() {
      const faults = FaultyTier.makeFaults()
      const tier = yield* faultyShared(faults, CacheTier.withTimeout({ timeout: "50 millis" }))
      faults.stall("10 seconds")
      const writer = yield* Effect.fork(Effect.exit(Effect.uninterruptible(tier.set("k", entry("w")))))
      yield* TestHelpers.waitFor(Effect.sync(() => faults.calls.set), (calls) => calls === 1)
      yield* TestClock.adjust("50 millis")
      assert.strictEqual(tierErrorOf(yield* Fiber.join(writer)).reason, "Timeout")
      faults.heal()
      yield* TestClock.adjust("10 seconds") // the stalled write was interrupted: it never lands
      assert.strictEqual(((yield* tier.get("k", Schema.String)) as CacheTier.Entry<string>).value, "v")
    }))

  it.scoped("interrupting the caller interrupts the operation", () =>
    Effect.gen(function*() {
      const faults = FaultyTier.makeFaults()
      const tier = yield* faultyShared(faults, CacheTier.withTimeout({ timeout: "1 minute" }))
      faults.stall("1 second")
      const writer = yield* Effect.fork(tier.set("k", entry("w")))
      yield* TestHelpers.waitFor(Effect.sync(() => faults.calls.set), (calls) => calls === 1)
      yield* Fiber.interrupt(writer)
      faults.heal()
      yield* TestClock.adjust("1 second")
      assert.strictEqual(((yield* tier.get("k", Schema.String)) as CacheTier.Entry<string>).value, "v")
    }))

  it.scoped("keeps name, kind, maxTtl, sync and tagTimes; bounds fence and deleteMatching; `operations` narrows it", () =>
    Effect.gen(function*() {
      const local = LocalTier.make({ name: "local", maxTtl: 1_000 }).tier
      const tagTimes: CacheTier.TagTimes = { keepLocally: () => {}, forget: () => {} }
      const slow = Effect.sleep("1 second")
      const inner = CacheTier.make({
        ...local,
        kind: "shared",
        set: (key, entry) => Effect.zipRight(slow, local.set(key, entry)),
        fence: () => Effect.as(slow, 7),
        deleteMatching: () => slow,
        tagTimes
      })
      const bounded = CacheTier.withTimeout({ timeout: "10 millis" })(inner)
      assert.strictEqual(bounded.name, "local")
      assert.strictEqual(bounded.kind, "shared")
      assert.strictEqual(bounded.maxTtl, 1_000)
      assert.strictEqual(bounded.sync, local.sync)
      assert.strictEqual(bounded.tagTimes, tagTimes)

      const fence = yield* Effect.fork(Effect.exit(bounded.fence!("k")))
      const sweep = yield* Effect.fork(Effect.exit(bounded.deleteMatching!("app:", "*")))
      yield* Effect.yieldNow()
      yield* TestClock.adjust("10 millis")
      assert.strictEqual(tierErrorOf(yield* Fiber.join(fence)).operation, "fence")
      assert.strictEqual(tierErrorOf(yield* Fiber.join(sweep)).operation, "clear")

      const readsOnly = CacheTier.withTimeout({ timeout: "10 millis", operations: ["get"] })(inner)
      const write = yield* Effect.fork(Effect.exit(readsOnly.set("k", entry("v"))))
      yield* Effect.yieldNow()
      yield* TestClock.adjust("1 second")
      assert.isTrue(Exit.isSuccess(yield* Fiber.join(write)))

      const plain = CacheTier.withTimeout({ timeout: "10 millis" })(local)
      assert.isUndefined(plain.fence)
      assert.isUndefined(plain.deleteMatching)
    }))

  it.scopedLive("bounds operations on the live clock too", () =>
    Effect.gen(function*() {
      const faults = FaultyTier.makeFaults()
      const tier = yield* faultyShared(faults, CacheTier.withTimeout({ timeout: "20 millis" }))
      faults.stall("1 second")
      const [took, exits] = yield* Effect.timed(
        Effect.forEach(["k", "k", "k"], (key) => Effect.exit(tier.get(key, Schema.String)), {
          concurrency: "unbounded"
        })
      )
      assert.deepStrictEqual(exits.map((exit) => tierErrorOf(exit).reason), ["Timeout", "Timeout", "Timeout"])
      assert.isBelow(Duration.toMillis(took), 500)
      faults.heal()
      assert.isTrue(Exit.isSuccess(yield* Effect.exit(tier.get("k", Schema.String)))) // (the entry expired long ago by this clock)
    }))

  it.scoped("keeps a promotion policy applied before it, its writes bounded too", () =>
    Effect.gen(function*() {
      const faults = FaultyTier.makeFaults()
      const never = CacheTier.withTimeout({ timeout: "50 millis" })(
        CacheTier.withPolicy({ promotion: "never" })(SharedTier.make())
      )
      assert.isUndefined(never.placement!.promote("k", entry("v"), 0))
      const always = CacheTier.withTimeout({ timeout: "50 millis" })(
        CacheTier.withPolicy({ promotion: "always" })(FaultyTier.wrap(faults, SharedTier.make()))
      )
      faults.stall("1 second")
      const promotion = yield* Effect.fork(Effect.exit(always.placement!.promote("k", entry("v"), 0)!))
      yield* TestHelpers.waitFor(Effect.sync(() => faults.calls.set), (calls) => calls === 1)
      yield* TestClock.adjust("50 millis")
      assert.strictEqual(tierErrorOf(yield* Fiber.join(promotion)).reason, "Timeout")
    }))

  it("refuses an invalid timeout or operation as defects naming the option", () => {
    const tier = LocalTier.make().tier
    assert.throws(() => CacheTier.withTimeout({ timeout: 0 })(tier), /CacheTier.withTimeout option "timeout"/)
    assert.throws(
      () => CacheTier.withTimeout({ timeout: 5, operations: ["read" as "get"] })(tier),
      /option "operations"/
    )
  })

  it.scoped("refuses a stack given as a tier value", () =>
    Effect.gen(function*() {
      const stack = yield* tierOf(CacheTier.stack(LocalTier.make().layer, SharedTier.layer()))
      assert.throws(() => CacheTier.withTimeout({ timeout: 5 })(stack), /a single tier/)
    }))

  it.scoped("refuses a stack when the layer is built: its members are to be wrapped", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(
        tierOf(
          CacheTier.stack(LocalTier.make().layer, SharedTier.layer()).pipe(CacheTier.withTimeout({ timeout: 5 }))
        )
      )
      assert.isTrue(Exit.isFailure(exit) && Cause.isDie(exit.cause))
      assert.match(Cause.pretty((exit as Exit.Failure<unknown, unknown>).cause), /apply it to the member layers/)
    }))
})

describe("CacheTier.withRetry", () => {
  it.scoped("retries an Unavailable tier with backoff until it answers", () =>
    Effect.gen(function*() {
      const faults = FaultyTier.makeFaults()
      const tier = yield* faultyShared(faults, CacheTier.withRetry({ times: 3, delay: "20 millis" }))
      faults.fail("Unavailable")
      const reader = yield* Effect.fork(tier.get("k", Schema.String))
      yield* untilGets(faults, 1)
      yield* TestClock.adjust("10 millis") // less than the first delay (20 ms × 0.8 at least)
      assert.strictEqual(faults.calls.get, 1)
      yield* TestClock.adjust("20 millis")
      yield* untilGets(faults, 2)
      faults.heal()
      yield* TestClock.adjust("50 millis") // the second delay: 40 ms × 1.2 at most
      const read = yield* Fiber.join(reader)
      assert.strictEqual((read as CacheTier.Entry<string>).value, "v")
      assert.strictEqual(faults.calls.get, 3)
    }))

  it.scoped("gives up after `times` retries with the last failure", () =>
    Effect.gen(function*() {
      const faults = FaultyTier.makeFaults()
      const tier = yield* faultyShared(faults, CacheTier.withRetry({ times: 2, schedule: Schedule.spaced("5 millis") }))
      faults.fail("Timeout")
      const writer = yield* Effect.fork(Effect.exit(tier.set("k", entry("w"))))
      yield* Effect.yieldNow()
      yield* TestClock.adjust("5 millis")
      yield* TestClock.adjust("5 millis")
      const error = tierErrorOf(yield* Fiber.join(writer))
      assert.strictEqual(error.reason, "Timeout")
      assert.strictEqual(faults.calls.set, 3)
    }))

  it.scoped("does not retry Encode or CircuitOpen failures, nor a read that ends in a DecodeFailure", () =>
    Effect.gen(function*() {
      const faults = FaultyTier.makeFaults()
      const tier = yield* faultyShared(faults, CacheTier.withRetry({ times: 5 }))
      faults.fail("Encode")
      assert.strictEqual(tierErrorOf(yield* Effect.exit(tier.set("k", entry("w")))).reason, "Encode")
      assert.strictEqual(faults.calls.set, 1)
      faults.fail("CircuitOpen")
      assert.strictEqual(tierErrorOf(yield* Effect.exit(tier.get("k", Schema.String))).reason, "CircuitOpen")
      assert.strictEqual(faults.calls.get, 1)
      faults.heal()
      const read = yield* tier.get("k", Schema.Number) // "v" is not a number
      assert.instanceOf(read, CacheTier.DecodeFailure)
      assert.strictEqual(faults.calls.get, 2)
    }))

  it("refuses Encode and CircuitOpen as reasons, and `delay` together with `schedule`", () => {
    const tier = LocalTier.make().tier
    assert.throws(() => CacheTier.withRetry({ reasons: ["Encode" as "Unknown"] })(tier), /option "reasons"/)
    assert.throws(
      () => CacheTier.withRetry({ delay: "1 millis", schedule: Schedule.spaced("1 millis") })(tier),
      /option "delay"/
    )
    assert.throws(() => CacheTier.withRetry({ times: -1 })(tier), /option "times"/)
    assert.strictEqual(CacheTier.withRetry()(tier).sync, tier.sync)
  })
})

describe("CacheTier.withCircuitBreaker", () => {
  const breaker = CacheTier.withCircuitBreaker({ failureThreshold: 3, openFor: "1 second" })

  const failTimes = (tier: CacheTier.CacheTier, n: number) =>
    Effect.forEach(Array.from({ length: n }), () => Effect.exit(tier.get("k", Schema.String)))

  it.scoped("opens after failureThreshold consecutive failures, then fails fast without calling the tier", () =>
    Effect.gen(function*() {
      const faults = FaultyTier.makeFaults()
      const tier = yield* faultyShared(faults, breaker)
      faults.fail("Unavailable")
      const exits = yield* failTimes(tier, 3)
      assert.deepStrictEqual(exits.map((exit) => tierErrorOf(exit).reason), [
        "Unavailable",
        "Unavailable",
        "Unavailable"
      ])
      faults.heal() // the store is back, but the circuit stays open for `openFor`
      const rejected = tierErrorOf(yield* Effect.exit(tier.set("k", entry("w"))))
      assert.strictEqual(rejected.reason, "CircuitOpen")
      assert.strictEqual(rejected.operation, "set")
      assert.strictEqual(rejected.tier, "shared")
      assert.strictEqual(faults.calls.get, 3)
      assert.strictEqual(faults.calls.set, 0)
    }))

  it.scoped("counts only consecutive Unavailable/Timeout failures: reply errors, Encode and successes do not open it", () =>
    Effect.gen(function*() {
      const faults = FaultyTier.makeFaults()
      const tier = yield* faultyShared(faults, breaker)
      faults.fail("Unknown")
      yield* failTimes(tier, 5)
      faults.fail("Encode")
      yield* failTimes(tier, 5)
      faults.fail("Timeout")
      yield* failTimes(tier, 2)
      faults.heal()
      yield* tier.get("k", Schema.String) // a success resets the count
      faults.fail("Timeout")
      yield* failTimes(tier, 2)
      assert.strictEqual(faults.calls.get, 15)
      assert.strictEqual(tierErrorOf(yield* Effect.exit(tier.get("k", Schema.String))).reason, "Timeout")
      assert.strictEqual(tierErrorOf(yield* Effect.exit(tier.get("k", Schema.String))).reason, "CircuitOpen")
      assert.strictEqual(faults.calls.get, 16)
    }))

  it.scoped("after openFor admits one probe while the others fail fast; only the probe's success closes it", () =>
    Effect.gen(function*() {
      const faults = FaultyTier.makeFaults()
      const tier = yield* faultyShared(faults, breaker)
      faults.fail("Unavailable")
      yield* failTimes(tier, 3)
      yield* TestClock.adjust("999 millis")
      assert.strictEqual(tierErrorOf(yield* Effect.exit(tier.get("k", Schema.String))).reason, "CircuitOpen")
      yield* TestClock.adjust("1 millis")
      faults.heal()
      faults.stall("100 millis")
      const probe = yield* Effect.fork(tier.get("k", Schema.String))
      yield* untilGets(faults, 4)
      const other = tierErrorOf(yield* Effect.exit(tier.get("k", Schema.String)))
      assert.strictEqual(other.reason, "CircuitOpen") // half open: one probe at a time
      assert.strictEqual(faults.calls.get, 4)
      yield* TestClock.adjust("100 millis")
      assert.strictEqual(((yield* Fiber.join(probe)) as CacheTier.Entry<string>).value, "v")
      faults.heal()
      yield* tier.get("k", Schema.String) // closed again
      assert.strictEqual(faults.calls.get, 5)
    }))

  it.scoped("a failed probe opens it again for openFor", () =>
    Effect.gen(function*() {
      const faults = FaultyTier.makeFaults()
      const tier = yield* faultyShared(faults, breaker)
      faults.fail("Unavailable")
      yield* failTimes(tier, 3)
      yield* TestClock.adjust("1 second")
      assert.strictEqual(tierErrorOf(yield* Effect.exit(tier.get("k", Schema.String))).reason, "Unavailable") // the probe
      faults.heal()
      yield* TestClock.adjust("999 millis")
      assert.strictEqual(tierErrorOf(yield* Effect.exit(tier.get("k", Schema.String))).reason, "CircuitOpen")
      yield* TestClock.adjust("1 millis")
      yield* tier.get("k", Schema.String) // the next probe succeeds
      yield* tier.get("k", Schema.String)
      assert.strictEqual(faults.calls.get, 6)
    }))

  it.scoped("a call admitted before the circuit opened that succeeds late does not close it", () =>
    Effect.gen(function*() {
      const faults = FaultyTier.makeFaults()
      const tier = yield* faultyShared(faults, breaker)
      faults.stall("500 millis")
      const early = yield* Effect.fork(tier.get("k", Schema.String)) // admitted while closed, answers late
      yield* untilGets(faults, 1)
      faults.heal()
      faults.fail("Unavailable")
      yield* failTimes(tier, 3) // opens the circuit
      faults.heal()
      yield* TestClock.adjust("500 millis")
      assert.strictEqual(((yield* Fiber.join(early)) as CacheTier.Entry<string>).value, "v")
      assert.strictEqual(tierErrorOf(yield* Effect.exit(tier.get("k", Schema.String))).reason, "CircuitOpen")
      assert.strictEqual(faults.calls.get, 4)
    }))

  it.scoped("logs the opening once at warning and the closing at info", () =>
    Effect.gen(function*() {
      const logs: Array<string> = []
      const capture = Logger.make(({ logLevel, message }) => {
        logs.push(`${logLevel.label} ${Array.isArray(message) ? message.join(" ") : String(message)}`)
      })
      const faults = FaultyTier.makeFaults()
      const tier = yield* faultyShared(faults, breaker)
      yield* Effect.gen(function*() {
        faults.fail("Unavailable")
        yield* failTimes(tier, 5)
        yield* TestClock.adjust("1 second")
        yield* failTimes(tier, 1) // a failed probe: open again, not logged again
        yield* TestClock.adjust("1 second")
        faults.heal()
        yield* tier.get("k", Schema.String)
        yield* tier.get("k", Schema.String)
      }).pipe(Effect.provide(Logger.add(capture)))
      assert.deepStrictEqual(logs, [
        "WARN layercake: tier \"shared\" circuit opened after 3 failures; failing fast for 1000 ms",
        "INFO layercake: tier \"shared\" circuit closed; the tier answers again"
      ])
    }))

  it("drops sync access, which would bypass the breaker; keeps tagTimes", () => {
    const local = LocalTier.make().tier
    const wrapped = CacheTier.withCircuitBreaker()(local)
    assert.isDefined(local.sync)
    assert.isUndefined(wrapped.sync)
    assert.strictEqual(wrapped.name, local.name)
    assert.throws(() => CacheTier.withCircuitBreaker({ failureThreshold: 0 })(local), /option "failureThreshold"/)
  })

  it.scoped("each build of a wrapped layer has its own breaker", () =>
    Effect.gen(function*() {
      const faults = FaultyTier.makeFaults()
      const layer = FaultyTier.layer(faults, SharedTier.layer()).pipe(breaker)
      const first = yield* tierOf(layer)
      const second = yield* tierOf(layer)
      faults.fail("Unavailable")
      yield* failTimes(first, 3)
      faults.heal()
      assert.strictEqual(tierErrorOf(yield* Effect.exit(first.get("k", Schema.String))).reason, "CircuitOpen")
      assert.isUndefined(yield* second.get("k", Schema.String))
    }))
})

describe("composing middleware", () => {
  it.scoped("timeout inside retry bounds each attempt; outside, it bounds the whole", () =>
    Effect.gen(function*() {
      const retry = CacheTier.withRetry({ times: 2, schedule: Schedule.spaced("10 millis") })
      const timeout = CacheTier.withTimeout({ timeout: "50 millis" })
      const faults = FaultyTier.makeFaults()
      const perAttempt = yield* faultyShared(faults, timeout, retry)
      const whole = yield* faultyShared(faults, retry, timeout)
      faults.stall("1 hour")
      const reader = yield* Effect.fork(Effect.exit(perAttempt.get("k", Schema.String)))
      for (let attempt = 1; attempt <= 3; attempt++) {
        yield* untilGets(faults, attempt)
        yield* TestClock.adjust(attempt < 3 ? "60 millis" : "49 millis") // 50 ms bound, then 10 ms delay
      }
      assert.isNull(reader.unsafePoll())
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(tierErrorOf(yield* Fiber.join(reader)).reason, "Timeout") // after 170 ms and 3 attempts
      assert.strictEqual(faults.calls.get, 3)

      const bounded = yield* Effect.fork(Effect.exit(whole.get("k", Schema.String)))
      yield* untilGets(faults, 4)
      yield* TestClock.adjust("50 millis")
      assert.strictEqual(tierErrorOf(yield* Fiber.join(bounded)).reason, "Timeout") // after 50 ms and 1 attempt
      assert.strictEqual(faults.calls.get, 4)
    }))

  it.scoped("retry outside the breaker stops at once when the circuit opens", () =>
    Effect.gen(function*() {
      const faults = FaultyTier.makeFaults()
      const tier = yield* faultyShared(
        faults,
        CacheTier.withCircuitBreaker({ failureThreshold: 2 }),
        CacheTier.withRetry({ times: 5, schedule: Schedule.spaced("1 millis") })
      )
      faults.fail("Unavailable")
      const reader = yield* Effect.fork(Effect.exit(tier.get("k", Schema.String)))
      yield* untilGets(faults, 1)
      yield* TestClock.adjust("1 millis")
      yield* untilGets(faults, 2)
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(tierErrorOf(yield* Fiber.join(reader)).reason, "CircuitOpen")
      assert.strictEqual(faults.calls.get, 2)
    }))

  it.scoped("in a stack under Cache.layer: L1 serves while L2 is broken, a miss waits out L2's read and write-back timeouts, then the circuit skips L2", () =>
    Effect.gen(function*() {
      const faults = FaultyTier.makeFaults()
      const tiers = CacheTier.stack(
        LocalTier.make({ name: "memory" }).layer,
        FaultyTier.layer(faults, SharedTier.layer({ name: "shared" })).pipe(
          CacheTier.withTimeout({ timeout: "50 millis" }),
          CacheTier.withCircuitBreaker({ failureThreshold: 2, openFor: "10 seconds" })
        )
      )
      const cache = Context.get(
        yield* Layer.build(Cache.layer({ namespace: "app" }).pipe(Layer.provide(tiers))),
        Cache.Cache
      )
      yield* cache.set("kept", Schema.String, "in L1")
      faults.stall("1 hour") // L2 never answers

      assert.deepStrictEqual(yield* cache.get("kept", Schema.String), Option.some("in L1")) // no clock needed

      const before = faults.calls.get
      const miss = yield* Effect.fork(cache.getOrCompute("new", Schema.String, Effect.succeed("computed")))
      yield* untilGets(faults, before + 1)
      yield* TestClock.adjust("50 millis") // the L2 read times out; the value is computed and written back
      yield* TestHelpers.waitFor(Effect.sync(() => faults.calls.set), (calls) => calls === 2)
      yield* TestClock.adjust("50 millis") // the write-back to L2 times out too
      assert.strictEqual(yield* Fiber.join(miss), "computed")
      yield* TestHelpers.settled.pipe(Effect.provideService(Cache.Cache, cache))

      // Two timeouts opened the circuit: L2 is skipped without waiting.
      const calls = faults.calls.get + faults.calls.set
      assert.strictEqual(yield* cache.getOrCompute("other", Schema.String, Effect.succeed("fast")), "fast")
      assert.deepStrictEqual(yield* cache.get("new", Schema.String), Option.some("computed"))
      assert.strictEqual(faults.calls.get + faults.calls.set, calls)
      const stats = yield* TestHelpers.settled.pipe(Effect.provideService(Cache.Cache, cache))
      assert.isTrue(stats.perTier[1].errors >= 3)
    }))
})

// A wrapped tier is still a tier: the contract holds through every middleware.
Conformance.run(
  "SharedTier with timeout, circuit breaker and retry",
  () =>
    SharedTier.layer().pipe(
      CacheTier.withTimeout({ timeout: "1 second" }),
      CacheTier.withCircuitBreaker(),
      CacheTier.withRetry()
    ),
  { kind: "shared" }
)
Conformance.run(
  "LocalTier with timeout and retry (sync access kept)",
  () => LocalTier.make().layer.pipe(CacheTier.withTimeout({ timeout: "1 second" }), CacheTier.withRetry()),
  { kind: "local" }
)
Conformance.run(
  "LocalTier with a circuit breaker (no sync access)",
  () => LocalTier.make().layer.pipe(CacheTier.withCircuitBreaker()),
  { kind: "local" }
)
