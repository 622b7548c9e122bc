import type * as Deferred from "effect/Deferred"
import type * as Fiber from "effect/Fiber"
import type * as Schema from "effect/Schema"
import * as SynchronizedRef from "effect/SynchronizedRef"

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
  constructor(
    readonly key: string,
    readonly schema: Schema.Schema<any, any>,
    /** The starter's `errorSchema`, if it gave one. */
    readonly errorSchema: Schema.Schema<any, any> | undefined,
    readonly deferred: Deferred.Deferred<any, any>,
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
}

/**
 * The in-flight computes, one `Flight` per key in a `SynchronizedRef`. Only
 * bookkeeping runs under the lock; computes run after it is released.
 * @internal
 */
export class Inflight {
  private readonly ref = SynchronizedRef.unsafeMake(new Map<string, Flight>())

  /**
   * The running flight of the key, or `make()` installed as the new one
   * (`started: true`). Callers join by key whatever schema object they hold (a
   * schema built inline is a new object each call); a joiner whose schema
   * differs from the flight's converts the result (see `Cache.computeAndWait`).
   */
  join(key: string, make: () => Flight) {
    return SynchronizedRef.modify(this.ref, (flights) => {
      const running = flights.get(key)
      if (running !== undefined) return [{ flight: running, started: false }, flights]
      const flight = make()
      flights.set(key, flight)
      return [{ flight, started: true }, flights]
    })
  }

  /** Removes the flight if it is still the registered one for its key. */
  release(flight: Flight) {
    return SynchronizedRef.update(this.ref, (flights) => {
      if (flights.get(flight.key) === flight) flights.delete(flight.key)
      return flights
    })
  }

  /** Marks matching flights discarded and unregisters them, so new callers start afresh. */
  discard(matches: (flight: Flight) => boolean) {
    return SynchronizedRef.update(this.ref, (flights) => {
      for (const flight of flights.values()) {
        if (matches(flight)) {
          flight.discarded = true
          flights.delete(flight.key)
        }
      }
      return flights
    })
  }

  discardKeys(keys: ReadonlyArray<string>) {
    return SynchronizedRef.update(this.ref, (flights) => {
      for (const key of keys) {
        const flight = flights.get(key)
        if (flight !== undefined) {
          flight.discarded = true
          flights.delete(key)
        }
      }
      return flights
    })
  }
}
