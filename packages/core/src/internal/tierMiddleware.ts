/**
 * Tier middleware: a timeout, retries and a circuit breaker around any tier.
 * Each is a function of a tier or of a tier layer (see `CacheTier.Middleware`)
 * that wraps every operation of the tier and keeps its name, kind and `maxTtl`.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
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
import { type Admission, Breaker } from "./breaker.js"
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
 * the middleware decides; `tagTimes` (process-local bookkeeping) is kept.
 */
const wrapTier = (tier: Tier, around: Around, sync: Tier["sync"]): Tier => {
  const { deleteMatching, fence } = tier
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
    tagTimes: tier.tagTimes
  })
}

/**
 * A middleware from what it does to one tier: applied to a tier at once, to a
 * layer each time the layer is built (so each build has its own state, e.g.
 * its own breaker). A stack is refused: its members must be wrapped one by
 * one, inside `CacheTier.stack`, or the `Cache` would lose sight of them.
 */
/** @internal */
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

/**
 * `run()` bounded by `millis` on the Effect `Clock`. The operation and the
 * timer run in fibers of their own and the caller waits for whichever ends
 * first, so the bound holds in an uninterruptible region too (the `Cache`
 * takes fences and stores computed values in one, so that a caller leaving
 * does not abort them), where an `Effect.timeout` would wait for the
 * operation it cannot interrupt. The operation is interruptible in its own
 * fiber: the timeout interrupts it, and an interruption of the caller (where
 * it can be interrupted) stops both.
 */
const bounded = <A>(
  run: () => Effect.Effect<A, TierError>,
  millis: number,
  onTimeout: () => TierError
): Effect.Effect<A, TierError> =>
  Effect.flatMap(Effect.runtime<never>(), (runtime) =>
    Effect.async<A, TierError>((resume) => {
      const fork = Runtime.runFork(runtime)
      const operation = fork(Effect.interruptible(Effect.suspend(run)))
      const timer = fork(Effect.interruptible(Effect.sleep(millis)))
      let done = false
      const stop = () => {
        done = true
        operation.unsafeInterruptAsFork(FiberId.none)
        timer.unsafeInterruptAsFork(FiberId.none)
      }
      operation.addObserver((exit) => {
        if (done) return
        stop()
        resume(exit)
      })
      timer.addObserver(() => {
        if (done) return
        stop()
        resume(Effect.fail(onTimeout()))
      })
      return Effect.sync(stop)
    }))

/** @internal */
export const withTimeout = (options: TimeoutOptions): Middleware =>
  middleware("CacheTier.withTimeout", (tier) => {
    const module = "CacheTier.withTimeout"
    const millis = Validate.duration(module, "timeout", options.timeout)
    const limited = operationSet(module, options.operations)
    const around: Around = (operation, run) =>
      limited.has(operation)
        ? bounded(
          run,
          millis,
          () => new TierError({ tier: tier.name, operation, reason: "Timeout", cause: `no answer within ${millis} ms` })
        )
        : Effect.suspend(run)
    // Sync access answers synchronously from process memory: there is nothing to wait for.
    return wrapTier(tier, around, tier.sync)
  })

// --- withRetry -------------------------------------------------------------------

/** Reasons worth another attempt; an `Encode` failure would fail the same way, and an open circuit is meant to fail fast. */
const RETRYABLE = ["Unavailable", "Timeout", "Unknown"] as const

/** @internal */
export const DEFAULT_RETRY = { times: 2, delayMillis: 20, reasons: ["Unavailable", "Timeout"] } as const

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
    const policy = { schedule, times, while: (error: TierError) => reasons.has(error.reason) }
    const around: Around = (operation, run) =>
      retried.has(operation) ? Effect.retry(Effect.suspend(run), policy) : Effect.suspend(run)
    // Sync reads cannot fail; sync writes of an in-process tier are not retried (it has no transient failures).
    return wrapTier(tier, around, tier.sync)
  })

// --- withCircuitBreaker ----------------------------------------------------------

/** @internal */
export const DEFAULT_BREAKER = { failureThreshold: 5, openForMillis: 5_000 } as const

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
