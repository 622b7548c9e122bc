/**
 * The circuit breaker behind `CacheTier.withCircuitBreaker` and the Redis
 * tier's, for a tier that reports its outcomes itself (from promise
 * callbacks, per node). After `failureThreshold` consecutive failures the
 * circuit opens and calls are rejected at once for `openForMillis`; then one
 * call goes through as the probe, and only its success closes the circuit (a
 * call admitted before the circuit opened that succeeds late says nothing
 * about the store now). The state changes are synchronous; the caller gives
 * the time of each, read from the Effect `Clock`, and runs the returned
 * effects: the logs of transitions.
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import * as internal from "./internal/breaker.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly failureThreshold: number
  readonly openForMillis: number
}

/**
 * What to log on a transition.
 *
 * @since 0.1.0
 * @category models
 */
export interface Events {
  readonly opened: (failures: number) => Effect.Effect<void>
  readonly closed: Effect.Effect<void>
}

/**
 * @since 0.1.0
 * @category models
 */
export type State = "Closed" | "Open" | "HalfOpen"

/**
 * What `admit` decides for a call: run it, run it as the probe, or reject it.
 *
 * @since 0.1.0
 * @category models
 */
export type Admission = "Run" | "Probe" | "Reject"

/**
 * @since 0.1.0
 * @category models
 */
export interface CircuitBreaker {
  /** The state at `now` (for logs and tests). */
  readonly state: (now: number) => State
  readonly admit: (now: number) => Admission
  /** A call succeeded; the log of the transition, if any. */
  readonly succeeded: (admission: Admission) => Effect.Effect<void> | undefined
  /** A call failed at `now`; the log of the transition, if any. */
  readonly failed: (admission: Admission, now: number) => Effect.Effect<void> | undefined
  /** A call ended with neither (interrupted, or a failure that says nothing about the store). */
  readonly abandoned: (admission: Admission) => undefined
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options, events: Events): CircuitBreaker => new internal.Breaker(options, events)
