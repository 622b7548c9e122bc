/**
 * Tier middleware: a timeout, retries and a circuit breaker around any tier.
 * Each is a function of a tier or of a tier layer (see `CacheTier.Middleware`)
 * that wraps every operation of the tier and keeps its name, kind and `maxTtl`.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import type * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import * as Layer from "effect/Layer"
import * as Runtime from "effect/Runtime"
import * as Schedule from "effect/Schedule"
import type {
  CacheTier as Tier,
  CircuitBreakerOptions,
  Middleware,
  RetryOptions,
  TimeoutOptions
} from "../CacheTier.js"
import type { Admission } from "../CircuitBreaker.js"
import { Breaker } from "./breaker.js"
import { TierError, type TierOperation } from "./errors.js"
import { isStack, make, membersOf, tag } from "./tier.js"
import * as Validate from "./validate.js"

/** One operation of the wrapped tier, as a middleware sees it: started anew by each `run()`. */
type Around = <A>(operation: TierOperation, run: () => Effect.Effect<A, TierError>) => Effect.Effect<A, TierError>

const OPERATIONS: ReadonlyArray<TierOperation> = ["get", "set", "delete", "invalidateTags", "clear", "fence"]

/**
 * A tier whose effectful operations go through `around`. Each call of the
 * wrapped tier's function happens inside the effect, so that a retry calls it
 * again instead of re-running an effect a tier may have built eagerly.
 * `deleteMatching` counts as `"clear"`, as tiers report it. `sync` is what
 * the middleware decides; `tagTimes` (process-local bookkeeping) is kept; a
 * promotion policy (`withPolicy` applied first) is kept, its writes going
 * through `around` as `"set"`s.
 */
const wrapTier = (tier: Tier, around: Around, sync: Tier["sync"]): Tier => {
  const { deleteMatching, fence, placement } = tier
  return make({
    name: tier.name,
    kind: tier.kind,
    maxTtl: tier.maxTtl,
    get: (key, schema, errorSchema) => around("get", () => tier.get(key, schema, errorSchema)),
    getMany: (keys, schema, errorSchema) => around("get", () => tier.getMany(keys, schema, errorSchema)),
    set: (key, entry) => around("set", () => tier.set(key, entry)),
    setMany: (entries) => around("set", () => tier.setMany(entries)),
    delete: (keys) => around("delete", () => tier.delete(keys)),
    invalidateTags: (tags, at) => around("invalidateTags", () => tier.invalidateTags(tags, at)),
    clear: (prefix) => around("clear", () => tier.clear(prefix)),
    deleteMatching: deleteMatching === undefined
      ? undefined
      : (prefix, pattern) => around("clear", () => deleteMatching(prefix, pattern)),
    fence: fence === undefined ? undefined : (key) => around("fence", () => fence(key)),
    sync,
    tagTimes: tier.tagTimes,
    placement: placement === undefined ? undefined : {
      promote: (key, entry, now) => {
        const written = placement.promote(key, entry, now)
        return written === undefined ? undefined : around("set", () => written)
      }
    }
  })
}

/**
 * A middleware from what it does to one tier: applied to a tier at once, to a
 * layer each time the layer is built (so each build has its own state, e.g.
 * its own breaker). A stack is refused: its members must be wrapped one by
 * one, inside `CacheTier.stack`, or the `Cache` would lose sight of them.
 * @internal
 */
export const middleware = (module: string, transform: (tier: Tier) => Tier): Middleware => {
  const checked = (tier: Tier): Tier => {
    if (isStack(tier)) {
      Validate.raise(
        module,
        "tier",
        `a stack of ${membersOf(tier).map((member) => member.name).join(", ")}`,
        "a single tier: apply it to the member layers inside CacheTier.stack"
      )
    }
    return transform(tier)
  }
  return ((self: Tier | Layer.Layer<Tier, unknown, unknown>) =>
    Layer.isLayer(self)
      ? Layer.map(self as Layer.Layer<Tier, unknown, unknown>, (context) =>
        Context.add(context, tag, checked(Context.get(context, tag))))
      : checked(self as Tier)) as Middleware
}

const operationSet = (
  module: string,
  operations: ReadonlyArray<TierOperation> | undefined
): ReadonlySet<TierOperation> => {
  if (operations === undefined) return new Set(OPERATIONS)
  if (!Array.isArray(operations)) Validate.raise(module, "operations", operations, "an array of tier operations")
  return new Set(operations.map((operation) => Validate.oneOf(module, "operations", operation, OPERATIONS)))
}

// --- withTimeout -----------------------------------------------------------------

/** A bounded call waiting for its operation: expired by the sweep at `at` unless done before. */
interface Pending {
  readonly at: number
  done: boolean
  readonly expire: () => void
}

/**
 * The deadlines of one wrapped tier under one `Clock`, checked by one fiber
 * that sleeps on that clock until the next deadline, instead of a timer and a
 * race per call. The fiber runs while calls are pending and ends when none
 * are. Every call of the tier has the same timeout, so deadlines come in the
 * order of the calls: a queue. (A live clock set back delays the deadlines
 * queued before by as much.)
 */
class Deadlines {
  private readonly queue: Array<Pending> = []
  private head = 0
  private sweeping = false

  constructor(private readonly clock: Clock.Clock) {}

  add(call: Pending, runtime: Runtime.Runtime<never>): void {
    this.queue.push(call)
    if (this.sweeping) return
    this.sweeping = true
    Runtime.runFork(runtime)(this.sweep)
  }

  /** Expires what is due and drops what is done; the time until the next deadline, or `undefined` when none is left. */
  private due(): number | undefined {
    const now = this.clock.unsafeCurrentTimeMillis()
    while (this.head < this.queue.length) {
      const call = this.queue[this.head]
      if (!call.done && call.at > now) break
      this.head++
      if (!call.done) call.expire()
    }
    if (this.head === this.queue.length) {
      this.queue.length = 0
      this.head = 0
      this.sweeping = false
      return undefined
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head)
      this.head = 0
    }
    return this.queue[this.head].at - now
  }

  private readonly sweep: Effect.Effect<void> = Effect.suspend(() => {
    const wait = this.due()
    return wait === undefined ? Effect.void : Effect.zipRight(this.clock.sleep(Duration.millis(wait)), this.sweep)
  })
}

/**
 * `run()` bounded by `millis` on the caller's `Clock`. The operation runs in
 * a fiber of its own and the caller waits for it or for its deadline,
 * whichever comes first, so the bound holds in an uninterruptible region too
 * (the `Cache` takes fences and stores computed values in one, so that a
 * caller leaving does not abort them), where an `Effect.timeout` would wait
 * for the operation it cannot interrupt. The operation is interruptible in
 * its fiber: the deadline interrupts it, and so does an interruption of the
 * caller (where it can be interrupted).
 */
const bounded = (millis: number) => {
  const deadlines = new WeakMap<Clock.Clock, Deadlines>()
  const deadlinesOf = (clock: Clock.Clock): Deadlines => {
    let found = deadlines.get(clock)
    if (found === undefined) {
      found = new Deadlines(clock)
      deadlines.set(clock, found)
    }
    return found
  }
  return <A>(run: () => Effect.Effect<A, TierError>, onTimeout: () => TierError): Effect.Effect<A, TierError> =>
    Effect.clockWith((clock) =>
      Effect.flatMap(Effect.runtime<never>(), (runtime) =>
        Effect.async<A, TierError>((resume) => {
          const operation = Runtime.runFork(runtime)(Effect.interruptible(Effect.suspend(run)))
          const call: Pending = {
            at: clock.unsafeCurrentTimeMillis() + millis,
            done: false,
            expire: () => {
              call.done = true
              operation.unsafeInterruptAsFork(FiberId.none)
              resume(Effect.fail(onTimeout()))
            }
          }
          operation.addObserver((exit) => {
            if (call.done) return
            call.done = true
            resume(exit)
          })
          if (!call.done) deadlinesOf(clock).add(call, runtime)
          return Effect.sync(() => {
            call.done = true
            operation.unsafeInterruptAsFork(FiberId.none)
          })
        }))
    )
}

/** @internal */
export const withTimeout = (options: TimeoutOptions): Middleware =>
  middleware("CacheTier.withTimeout", (tier) => {
    const module = "CacheTier.withTimeout"
    const millis = Validate.duration(module, "timeout", options.timeout)
    const limited = operationSet(module, options.operations)
    const bound = bounded(millis)
    const around: Around = (operation, run) =>
      limited.has(operation)
        ? bound(
          run,
          () => new TierError({ tier: tier.name, operation, reason: "Timeout", cause: `no answer within ${millis} ms` })
        )
        : Effect.suspend(run)
    // Sync access answers synchronously from process memory: there is nothing to wait for.
    return wrapTier(tier, around, tier.sync)
  })

// --- withRetry -------------------------------------------------------------------

/** Reasons worth another attempt; an `Encode` failure would fail the same way, and an open circuit is meant to fail fast. */
const RETRYABLE = ["Unavailable", "Timeout", "Unknown"] as const

const DEFAULT_RETRY = { times: 2, delayMillis: 20, reasons: ["Unavailable", "Timeout"] } as const

/** @internal */
export const withRetry = (options: RetryOptions = {}): Middleware =>
  middleware("CacheTier.withRetry", (tier) => {
    const module = "CacheTier.withRetry"
    const times = options.times === undefined
      ? DEFAULT_RETRY.times
      : Validate.integer(module, "times", options.times, 0, 100)
    if (options.schedule !== undefined && options.delay !== undefined) {
      Validate.raise(module, "delay", options.delay, "no delay when a schedule is given (the schedule sets the delays)")
    }
    const schedule = options.schedule ??
      Schedule.jittered(
        Schedule.exponential(Validate.optionalDuration(module, "delay", options.delay, DEFAULT_RETRY.delayMillis))
      )
    const reasons: ReadonlySet<TierError["reason"]> = new Set(
      (options.reasons ?? DEFAULT_RETRY.reasons).map((reason) => Validate.oneOf(module, "reasons", reason, RETRYABLE))
    )
    const retried = operationSet(module, options.operations)
    const retryable = (error: TierError) => reasons.has(error.reason)
    const policy = { schedule, times, while: retryable }
    // The schedule is started only after a first failure: an operation that succeeds costs a `catchAll`.
    const retrying = <A>(run: () => Effect.Effect<A, TierError>, first: TierError) => {
      let failed: TierError | undefined = first
      return Effect.retry(
        Effect.suspend(() => {
          if (failed === undefined) return run()
          const error = failed
          failed = undefined
          return Effect.fail(error)
        }),
        policy
      )
    }
    const around: Around = (operation, run) =>
      retried.has(operation)
        ? Effect.catchAll(Effect.suspend(run), (error) => retryable(error) ? retrying(run, error) : Effect.fail(error))
        : Effect.suspend(run)
    // Sync reads cannot fail; sync writes of an in-process tier are not retried (it has no transient failures).
    return wrapTier(tier, around, tier.sync)
  })

// --- withCircuitBreaker ----------------------------------------------------------

const DEFAULT_BREAKER = { failureThreshold: 5, openForMillis: 5_000 } as const

/**
 * What an outcome says about the store: a success or a reply error
 * (`"Unknown"`) shows it answers; `"Unavailable"`, `"Timeout"` and an open
 * circuit further in are failures; an `"Encode"` refusal (nothing was sent),
 * an interruption or a defect say nothing.
 */
const verdictOf = <A>(exit: Exit.Exit<A, TierError>): "answered" | "failed" | "neither" => {
  if (Exit.isSuccess(exit)) return "answered"
  const failure = Cause.failureOption(exit.cause)
  if (failure._tag === "None") return "neither"
  switch (failure.value.reason) {
    case "Unknown":
      return "answered"
    case "Encode":
      return "neither"
    default:
      return "failed"
  }
}

/** @internal */
export const withCircuitBreaker = (options: CircuitBreakerOptions = {}): Middleware =>
  middleware("CacheTier.withCircuitBreaker", (tier) => {
    const module = "CacheTier.withCircuitBreaker"
    const failureThreshold = options.failureThreshold === undefined
      ? DEFAULT_BREAKER.failureThreshold
      : Validate.integer(module, "failureThreshold", options.failureThreshold, 1, 1_000_000)
    const openForMillis = Validate.optionalDuration(module, "openFor", options.openFor, DEFAULT_BREAKER.openForMillis)
    const breaker = new Breaker({ failureThreshold, openForMillis }, {
      opened: (failures) =>
        Effect.logWarning(
          `layercake: tier "${tier.name}" circuit opened after ${failures} failures; failing fast for ${openForMillis} ms`
        ),
      closed: Effect.logInfo(`layercake: tier "${tier.name}" circuit closed; the tier answers again`)
    })
    const settle = <A>(admission: Admission, exit: Exit.Exit<A, TierError>, now: number) => {
      const verdict = verdictOf(exit)
      const log = verdict === "answered"
        ? breaker.succeeded(admission)
        : verdict === "failed"
        ? breaker.failed(admission, now)
        : breaker.abandoned(admission)
      return log ?? Effect.void
    }
    const around: Around = (operation, run) =>
      Effect.clockWith((clock) => {
        const admission = breaker.admit(clock.unsafeCurrentTimeMillis())
        if (admission === "Reject") {
          return Effect.fail(new TierError({ tier: tier.name, operation, reason: "CircuitOpen" }))
        }
        return Effect.onExit(
          Effect.suspend(run),
          (exit) => settle(admission, exit, clock.unsafeCurrentTimeMillis())
        )
      })
    // No sync access: it would bypass the breaker (an open circuit fails `get`, sync reads cannot fail).
    return wrapTier(tier, around, undefined)
  })
