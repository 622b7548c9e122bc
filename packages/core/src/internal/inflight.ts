import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import type * as Schema from "effect/Schema"

/**
 * One running compute of a key: a miss compute, a background refresh, or a
 * compute that outlived its callers (soft timeout). Every caller of the key
 * joins it instead of starting another.
 * @internal
 */
export class Flight {
  fiber: Fiber.RuntimeFiber<void> | undefined = undefined
  waiters = 0
  /** Invalidated, set or cleared while running: its result goes to its callers but is not stored. */
  discarded = false
  /** The outcome, once the flight ended. */
  exit: Exit.Exit<any, any> | undefined = undefined
  private readonly waiting = new Set<(exit: Exit.Exit<any, any>) => void>()
  constructor(
    readonly key: string,
    readonly schema: Schema.Schema<any, any>,
    /** The starter's `errorSchema`, if it gave one. */
    readonly errorSchema: Schema.Schema<any, any> | undefined,
    readonly startedAt: number,
    /** The tags its value will carry (prefixed), when known before it runs. */
    readonly tags: ReadonlyArray<string>,
    /** Its tags depend on its value: any tag invalidation discards it. */
    readonly dynamicTags: boolean,
    /** Survives its last waiter leaving (a refresh, or a soft-timed-out compute). */
    public detached: boolean,
    /**
     * Its typed failure may be cached (`errorTtl`): only a compute for a miss.
     * A failed refresh or stale-if-error compute must not hide the value it
     * would have replaced.
     */
    readonly mayCacheFailure: boolean
  ) {}

  /** Ends the flight: every waiter resumes with `exit`. */
  complete(exit: Exit.Exit<any, any>): void {
    this.exit = exit
    for (const resume of this.waiting) resume(exit)
    this.waiting.clear()
  }

  /**
   * Waits for the outcome and continues with `then(exit)`; `left` runs when
   * the waiter is interrupted first. One async step with its canceller: a
   * `Deferred` wrapped in `Effect.exit` and `Effect.onInterrupt` took four, and
   * two interrupt handlers, for each of a stampede's callers.
   */
  await<B, E, R>(
    then: (exit: Exit.Exit<any, any>) => Effect.Effect<B, E, R>,
    left: () => Effect.Effect<void>
  ): Effect.Effect<B, E, R> {
    return Effect.async<B, E, R>((resume) => {
      if (this.exit !== undefined) return resume(then(this.exit))
      const waiter = (exit: Exit.Exit<any, any>) => resume(then(exit))
      this.waiting.add(waiter)
      return Effect.suspend(() => {
        this.waiting.delete(waiter)
        return left()
      })
    })
  }
}

/**
 * The in-flight computes, one `Flight` per key. Every change is a synchronous
 * step of one fiber (JavaScript runs one at a time), so a plain map needs no
 * lock: a `SynchronizedRef` here cost two semaphore round trips per miss
 * (~7 µs) for nothing. Computes never run inside these steps.
 * @internal
 */
export class Inflight {
  private readonly flights = new Map<string, Flight>()

  /**
   * The running flight of the key, or `make()` installed as the new one
   * (`started: true`). Callers join by key whatever schema object they hold (a
   * schema built inline is a new object each call); a joiner whose schema
   * differs from the flight's converts the result (see `Cache.computeAndWait`).
   */
  join(key: string, make: () => Flight): Joined {
    const running = this.flights.get(key)
    if (running !== undefined) return { flight: running, started: false }
    const flight = make()
    this.flights.set(key, flight)
    return { flight, started: true }
  }

  has(key: string): boolean {
    return this.flights.has(key)
  }

  /** Removes the flight if it is still the registered one for its key. */
  release(flight: Flight): void {
    if (this.flights.get(flight.key) === flight) this.flights.delete(flight.key)
  }

  /** Marks matching flights discarded and unregisters them, so new callers start afresh. */
  discard(matches: (flight: Flight) => boolean): Effect.Effect<void> {
    return Effect.sync(() => {
      for (const flight of this.flights.values()) {
        if (matches(flight)) {
          flight.discarded = true
          this.flights.delete(flight.key)
        }
      }
    })
  }

  discardKeys(keys: ReadonlyArray<string>): Effect.Effect<void> {
    return Effect.sync(() => this.discardKeysNow(keys))
  }

  discardKeysNow(keys: ReadonlyArray<string>): void {
    for (const key of keys) {
      const flight = this.flights.get(key)
      if (flight !== undefined) {
        flight.discarded = true
        this.flights.delete(key)
      }
    }
  }
}

/** @internal */
export interface Joined {
  readonly flight: Flight
  readonly started: boolean
}
