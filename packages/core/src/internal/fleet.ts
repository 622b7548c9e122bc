/**
 * What a flight does for the fleet around its compute: the fence points of
 * the shared tiers (taken before the compute, so that a write of a compute
 * overtaken by an invalidation is refused by the tier), and the fleet-wide
 * lease of the key when a `DistributedLock` is attached.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import type { Entry } from "../CacheTier.js"
import type { DistributedLock, Lease as LockLease } from "../DistributedLock.js"
import type { Flight } from "./inflight.js"
import * as LocalCopies from "./localCopies.js"
import { logTierError } from "./stack.js"
import type { CacheState } from "./state.js"

/** @internal */
export type Lease =
  | { readonly _tag: "None" }
  | { readonly _tag: "Held"; readonly lease: LockLease }
  | { readonly _tag: "Found"; readonly value: unknown }

/** No lease: no lock, or computing without it. @internal */
export const none: Lease = { _tag: "None" }

/** The fence point of every shared tier that has `fence`; a tier that cannot give one gets 0 (its write is refused). @internal */
export const takeFences = (state: CacheState, fullKey: string): Effect.Effect<Entry<any>["fences"]> => {
  const fenced = state.fenced
  if (fenced.length === 0) return Effect.succeed(undefined)
  return Effect.map(
    Effect.forEach(fenced, (member) =>
      member.fence!(fullKey).pipe(
        Effect.map((at) => [member.name, at] as const),
        Effect.catchAll((error) => {
          state.tierError(state.members.indexOf(member))
          return Effect.as(
            logTierError(
              error,
              member,
              `layercake: tier ${member.name} could not give a fence point; the compute's result is not stored there`,
              { key: fullKey }
            ),
            [member.name, 0] as const
          )
        })
      ), { concurrency: fenced.length === 1 ? 1 : "unbounded" }),
    Object.fromEntries
  )
}

/** A fresh value of the key in the shared tiers (promoted into the local ones), or `undefined`. */
const readShared = (state: CacheState, flight: Flight): Effect.Effect<unknown> =>
  Effect.clockWith((clock) => {
    const now = clock.unsafeCurrentTimeMillis()
    return Effect.map(
      LocalCopies.readShared(state, flight.key, flight.schema, now, false),
      (entry) => entry !== undefined && !entry.negative && now < entry.freshUntil ? entry.value : undefined
    )
  })

/**
 * Takes the key's fleet-wide lease. When another instance holds it, waits for
 * its value in the shared tiers (polling with backoff) up to the lock's wait
 * timeout, then computes without the lease. A lock that fails is treated as
 * absent. With the lease, the shared tiers are read once more: the previous
 * holder may have just written the value.
 * @internal
 */
export const lease = (state: CacheState, flight: Flight): Effect.Effect<Lease> => {
  if (Option.isNone(state.lock) || state.firstShared === -1) return Effect.succeed(none)
  const lock = state.lock.value
  return Effect.flatMap(
    Effect.either(lock.tryAcquire(flight.key)),
    (acquired): Effect.Effect<Lease> => {
      if (acquired._tag === "Left") {
        return Effect.as(
          Effect.logWarning(`layercake: the lock of "${flight.key}" failed; computing without it`, acquired.left),
          none
        )
      }
      if (Option.isSome(acquired.right)) return leased(state, flight, acquired.right.value)
      state.counters.incr("lockWaits")
      return waitForHolder(state, flight, lock)
    }
  )
}

/** With the lease: the previous holder may have just written the value, so the shared tiers are read once more. */
const leased = (state: CacheState, flight: Flight, lease: LockLease): Effect.Effect<Lease> => {
  const held: Lease = { _tag: "Held", lease }
  return Effect.flatMap(readShared(state, flight), (value) => {
    if (value === undefined) state.counters.incr("lockAcquired")
    return value === undefined
      ? Effect.succeed(held)
      : Effect.as(release(state, held), { _tag: "Found", value } as Lease)
  })
}

/**
 * Waits for the holder's value, polling the shared tiers with backoff. Each
 * time it is not there yet, tries the lease again: a holder that crashed
 * stops extending it, and the first waiter to take it over computes.
 */
const waitForHolder = (
  state: CacheState,
  flight: Flight,
  lock: DistributedLock
): Effect.Effect<Lease> =>
  Effect.gen(function*() {
    const until = (yield* Clock.currentTimeMillis) + lock.waitTimeoutMillis
    let pause = 5
    for (;;) {
      if (flight.discarded) return none
      const value = yield* readShared(state, flight)
      if (value !== undefined) return { _tag: "Found", value } as Lease
      const retaken = yield* Effect.either(lock.tryAcquire(flight.key))
      if (retaken._tag === "Right" && Option.isSome(retaken.right)) {
        return yield* leased(state, flight, retaken.right.value)
      }
      const now = yield* Clock.currentTimeMillis
      if (now >= until) {
        state.counters.incr("lockTimeouts")
        return none
      }
      yield* Effect.sleep(Math.min(pause, until - now))
      pause = Math.min(pause * 2, 100)
    }
  })

/** Runs `compute` while extending the lease every third of its length. @internal */
export const holding = <A, E, R>(
  state: CacheState,
  lease: Lease,
  compute: Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> => {
  if (lease._tag !== "Held" || Option.isNone(state.lock)) return compute
  const lock = state.lock.value
  const extend = lock.extend(lease.lease).pipe(
    Effect.catchAll(() => Effect.succeed(true)),
    Effect.repeat({ schedule: Schedule.spaced(Math.max(1, Math.floor(lock.leaseMillis / 3))), while: (held) => held })
  )
  return Effect.scoped(Effect.zipRight(Effect.forkScoped(Effect.delay(extend, lock.leaseMillis / 3)), compute))
}

/** Releases a held lease; a failure is only logged (the lease expires). @internal */
export const release = (state: CacheState, lease: Lease): Effect.Effect<void> => {
  if (lease._tag !== "Held" || Option.isNone(state.lock)) return Effect.void
  return state.lock.value.release(lease.lease).pipe(
    Effect.catchAll((error) => Effect.logDebug(`layercake: releasing the lock of "${lease.lease.key}" failed`, error))
  )
}
