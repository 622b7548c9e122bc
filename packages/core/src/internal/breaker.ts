/**
 * The state machine of `CircuitBreaker` (see that module).
 *
 * @internal
 */
import type * as Effect from "effect/Effect"
import type { Admission, CircuitBreaker, Events, Options, State } from "../CircuitBreaker.js"

/** @internal */
export class Breaker implements CircuitBreaker {
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
