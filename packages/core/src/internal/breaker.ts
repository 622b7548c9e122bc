/**
 * A circuit breaker: after `failureThreshold` consecutive failures the circuit
 * opens and calls are rejected at once for `openFor`; then one call goes
 * through as a probe (the others are still rejected): its success closes the
 * circuit, its failure opens it again for `openFor`. Nothing but the probe
 * closes it.
 *
 * Ported from `@layercake/redis` (its `internal/breaker.ts`), which keeps its
 * own copy: the Redis tier reports outcomes from promise callbacks, per
 * Cluster node. Keep the two in step; the late-success rule below was a real
 * bug there (a success admitted before the circuit opened closed it again,
 * and the breaker flapped against a store that was still down).
 *
 * The state changes are synchronous; the time of each change is given by the
 * caller, read from the Effect `Clock`. The returned effects are the logs of
 * transitions.
 *
 * @internal
 */
import type * as Effect from "effect/Effect"

/** @internal */
export interface Options {
  readonly failureThreshold: number
  readonly openForMillis: number
}

/** @internal */
export interface Events {
  readonly opened: (failures: number) => Effect.Effect<void>
  readonly closed: Effect.Effect<void>
}

/** @internal */
export type State = "Closed" | "Open" | "HalfOpen"

/**
 * What `admit` decides for a call: run it, run it as the probe, or reject it.
 * @internal
 */
export type Admission = "Run" | "Probe" | "Reject"

/** @internal */
export class Breaker {
  private failures = 0
  /** Set while the circuit is open (or half open). */
  private openUntil: number | undefined = undefined
  private probing = false

  constructor(readonly options: Options, readonly events: Events) {}

  /** The state at `now` (for logs and tests). */
  state(now: number): State {
    if (this.openUntil === undefined) return "Closed"
    return this.probing || now < this.openUntil ? "Open" : "HalfOpen"
  }

  admit(now: number): Admission {
    if (this.openUntil === undefined) return "Run"
    if (this.probing || now < this.openUntil) return "Reject"
    this.probing = true
    return "Probe"
  }

  /**
   * A call succeeded. Only the probe closes an open circuit: a call admitted
   * before it opened that succeeds late says nothing about the store now.
   * Returns the log of the transition, if any.
   */
  succeeded(admission: Admission): Effect.Effect<void> | undefined {
    if (this.openUntil === undefined) {
      this.failures = 0
      return undefined
    }
    if (admission !== "Probe") return undefined
    this.probing = false
    this.failures = 0
    this.openUntil = undefined
    return this.events.closed
  }

  /** A call failed at `now`. Returns the log of the transition, if any. */
  failed(admission: Admission, now: number): Effect.Effect<void> | undefined {
    this.failures++
    if (admission === "Probe") {
      this.probing = false
      this.openUntil = now + this.options.openForMillis
      return undefined
    }
    // A call admitted before the circuit opened that fails late does not push the open period.
    if (this.openUntil !== undefined || this.failures < this.options.failureThreshold) return undefined
    this.openUntil = now + this.options.openForMillis
    return this.events.opened(this.failures)
  }

  /** A call ended with neither (interrupted, or a failure that says nothing about the store). */
  abandoned(admission: Admission): undefined {
    if (admission === "Probe") this.probing = false
    return undefined
  }
}
