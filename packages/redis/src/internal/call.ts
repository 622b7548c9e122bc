/**
 * One Redis call as an Effect: bounded by the operation timeout, through the
 * circuit breaker, failing only with a `TierError`.
 *
 * @internal
 */
import { CacheTier } from "@layercake/core"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { type Admission, Breaker } from "./breaker.js"
import { Deadlines } from "./deadlines.js"

type Operation = CacheTier.TierError["operation"]
type Reason = CacheTier.TierError["reason"]

/** Errors Redis sends while it cannot serve (as opposed to a bad command). */
const UNAVAILABLE_REPLY = /^(LOADING|CLUSTERDOWN|MASTERDOWN|TRYAGAIN|BUSY|READONLY|NOREPLICAS)\b/

const reasonOf = (cause: unknown): Reason => {
  if (cause instanceof Error && cause.name === "ReplyError" && !UNAVAILABLE_REPLY.test(cause.message)) return "Unknown"
  return "Unavailable"
}

/** The default (live) clock, and its class to recognise it. */
const liveClock = Clock.make()
const LiveClock = liveClock.constructor

/** @internal */
export interface CallOptions {
  readonly name: string
  readonly operationTimeout: number
  readonly breaker: { readonly failureThreshold: number; readonly openForMillis: number } | undefined
}

/** @internal */
export type Call = <A>(operation: Operation, run: () => Promise<A>) => Effect.Effect<A, CacheTier.TierError>

/** @internal */
export const makeCall = ({ breaker: breakerOptions, name, operationTimeout }: CallOptions): Call => {
  const breaker = breakerOptions === undefined ? undefined : new Breaker(breakerOptions, {
    opened: (failures) =>
      Effect.logWarning(
        `layercake: Redis tier "${name}" circuit opened after ${failures} failures; skipping it for ${breakerOptions.openForMillis} ms`
      ),
    closed: Effect.logInfo(`layercake: Redis tier "${name}" circuit closed; Redis answers again`)
  })

  const tierError = (operation: Operation, reason: Reason, cause?: unknown) =>
    new CacheTier.TierError({ tier: name, operation, reason, cause })

  /** Reports the end of a call to the breaker; the result, after the log of a transition if any. */
  const settle = <A>(
    clock: Clock.Clock,
    admission: Admission,
    result: Either.Either<A, CacheTier.TierError>
  ): Effect.Effect<A, CacheTier.TierError> => {
    const log = breaker === undefined
      ? undefined
      : Either.isRight(result)
      ? breaker.succeeded(admission)
      : breaker.failed(admission, clock.unsafeCurrentTimeMillis())
    return log === undefined ? result : Effect.zipRight(log, result)
  }

  /** Shared by the calls of this tier: one interval instead of a timer per call. */
  const deadlines = new Deadlines(
    Math.max(5, Math.round(operationTimeout / 10)),
    () => liveClock.unsafeCurrentTimeMillis()
  )

  /**
   * With the live clock: one `Effect.async` bounded by a shared deadline sweep.
   * An `Effect.timeout` races two fibers, which costs more than a Redis round
   * trip on a fast network; the bound is the same (plus at most a tenth).
   */
  const liveCall = <A>(clock: Clock.Clock, operation: Operation, run: () => Promise<A>, admission: Admission) =>
    Effect.async<A, CacheTier.TierError>((resume) => {
      let settled = false
      const deadline = deadlines.add(clock.unsafeCurrentTimeMillis() + operationTimeout, () => {
        settled = true
        resume(settle(clock, admission, Either.left(tierError(operation, "Timeout"))))
      })
      const onValue = (value: A) => {
        if (settled) return
        settled = true
        deadline.cancel()
        resume(settle(clock, admission, Either.right(value)))
      }
      const onError = (cause: unknown) => {
        if (settled) return
        settled = true
        deadline.cancel()
        resume(settle(clock, admission, Either.left(tierError(operation, reasonOf(cause), cause))))
      }
      try {
        run().then(onValue, onError)
      } catch (cause) {
        onError(cause)
      }
      return Effect.sync(() => {
        if (settled) return
        settled = true
        deadline.cancel()
        breaker?.abandoned(admission)
      })
    })

  /** With any other clock (a `TestClock`): the same bound through `Effect.timeout`, so that clock decides. */
  const clockCall = <A>(clock: Clock.Clock, operation: Operation, run: () => Promise<A>, admission: Admission) =>
    Effect.tryPromise({ try: () => run(), catch: (cause) => tierError(operation, reasonOf(cause), cause) }).pipe(
      Effect.timeoutFail({ duration: operationTimeout, onTimeout: () => tierError(operation, "Timeout") }),
      Effect.either,
      Effect.flatMap((result) => settle(clock, admission, result)),
      Effect.onInterrupt(() => Effect.sync(() => breaker?.abandoned(admission)))
    )

  return <A>(operation: Operation, run: () => Promise<A>): Effect.Effect<A, CacheTier.TierError> =>
    Effect.clockWith((clock) => {
      const admission = breaker === undefined ? "Run" : breaker.admit(clock.unsafeCurrentTimeMillis())
      if (admission === "Reject") return Effect.fail(tierError(operation, "CircuitOpen"))
      return clock.constructor === LiveClock
        ? liveCall(clock, operation, run, admission)
        : clockCall(clock, operation, run, admission)
    })
}
