import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberSet from "effect/FiberSet"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type { Entry } from "../CacheTier.js"
import { ComputeTimeoutError, DecodeFailure } from "./errors.js"
import * as Fleet from "./fleet.js"
import { Flight, type Joined } from "./inflight.js"
import * as Lifecycle from "./lifecycle.js"
import type { CacheState } from "./state.js"
import { convert } from "./tier.js"
import { negativeEntry, newEntry, write } from "./writes.js"

type Compute = Effect.Effect<any, any, any>

/** What a caller asks for: the key, its schemas and its compute. */
/** @internal */
export interface Call<A> {
  readonly fullKey: string
  readonly schema: Schema.Schema<A, any>
  readonly errorSchema: Schema.Schema<any, any> | undefined
  readonly compute: Compute
  readonly policy: Lifecycle.Policy
}

const Nothing: unique symbol = Symbol("layercake/Nothing")

/** @internal */
export const call = <A>(
  fullKey: string,
  schema: Schema.Schema<A, any>,
  compute: Compute,
  policy: Lifecycle.Policy
): Call<A> => ({ fullKey, schema, errorSchema: policy.errorSchema, compute, policy })

/** The key's flight, joined or started in a fiber of the layer's scope. */
const startFlight = (
  state: CacheState,
  request: Call<any>,
  now: number,
  kind: "compute" | "refresh",
  mayCacheFailure: boolean
): Effect.Effect<Joined, never, any> =>
  Effect.suspend(() => {
    if (state.closed) {
      return Effect.dieMessage(`layercake: Cache "${state.namespace}" used after its layer's scope closed`)
    }
    const { fullKey, policy } = request
    const joined = state.inflight.join(fullKey, () =>
      new Flight(
        fullKey,
        request.schema,
        request.errorSchema,
        now,
        policy.tags,
        policy.tagsOf !== undefined,
        kind === "refresh",
        mayCacheFailure
      ))
    if (!joined.started) return Effect.succeed(joined)
    const flight = runFlight(state, joined.flight, request, kind)
    // A refresh waits its turn behind the caller it serves. A compute starts at once, in this JavaScript
    // turn: scheduled, it would start only after every caller launched with it (a stampede's thousand
    // `runPromise`s), and an instant compute would pay a scheduler hop per miss.
    const started = kind === "refresh"
      ? FiberSet.run(state.fibers, flight)
      : Effect.map(FiberSet.runtime(state.fibers)<any>(), (run) => run(flight, { immediate: true }))
    return Effect.map(started, (fiber) => {
      joined.flight.fiber = fiber
      return joined
    })
  })

/** Ends the flight with `exit` (a value found elsewhere, or the compute's). */
const finish = (state: CacheState, flight: Flight, exit: Exit.Exit<any, any>): Effect.Effect<void> =>
  Effect.suspend(() => {
    state.inflight.release(flight)
    flight.complete(exit)
    return Effect.void
  })

/**
 * The body of a flight's fiber: only the compute itself (and a wait for
 * another instance's compute) is interruptible. Written as plain combinators:
 * it runs once per miss, where each generator step counts.
 */
const runFlight = (
  state: CacheState,
  flight: Flight,
  request: Call<any>,
  kind: "compute" | "refresh"
): Effect.Effect<void, never, any> => {
  // without a lock there is no lease to wait for, hold or release: no region, no finalizer
  const leasing = Option.isNone(state.lock)
    ? Effect.succeed(Fleet.none)
    : Effect.interruptible(Fleet.lease(state, flight))
  const run = Effect.flatMap(leasing, (lease) => {
    if (lease._tag === "Found") return finish(state, flight, Exit.succeed(lease.value))
    return Effect.flatMap(Fleet.takeFences(state, flight.key), (fences) => {
      state.counters.incr(kind === "refresh" ? "refreshes" : "computes")
      return Effect.flatMap(
        Effect.exit(Effect.interruptible(Fleet.holding(state, lease, request.compute))),
        (exit) =>
          settle(state, flight, exit, request.policy, kind, fences).pipe(
            (settled) => lease._tag === "Held" ? Effect.ensuring(settled, Fleet.release(state, lease)) : settled,
            Effect.catchAllCause((cause) => {
              state.counters.incr("backgroundDefects")
              return Effect.logError("layercake: storing a computed value failed", cause)
            }),
            Effect.zipRight(finish(state, flight, exit))
          )
      )
    })
  })
  if (kind === "refresh") return Effect.uninterruptible(run)
  return Effect.uninterruptible(
    Effect.flatMap(
      readTopAgain(state, flight, request.policy),
      (cached) => cached === Nothing ? run : finish(state, flight, Exit.succeed(cached))
    )
  )
}

/**
 * A caller can miss in the tiers just before the previous flight of its key
 * stores its value and ends; reading the top tier once more here keeps that
 * caller from computing again.
 */
const readTopAgain = (state: CacheState, flight: Flight, policy: Lifecycle.Policy): Effect.Effect<unknown> => {
  const sync = state.topSync
  if (sync === undefined) return Effect.succeed(Nothing)
  return Effect.clockWith((clock) => {
    const now = clock.unsafeCurrentTimeMillis()
    const found = sync.get(flight.key, flight.schema, undefined, now)
    return Effect.succeed(
      Lifecycle.isFreshHit(found, now, Lifecycle.refreshAfterOf(flight.key, policy)) ? found.value : Nothing
    )
  })
}

const settle = (
  state: CacheState,
  flight: Flight,
  exit: Exit.Exit<any, any>,
  policy: Lifecycle.Policy,
  kind: "compute" | "refresh",
  fences: Entry<any>["fences"]
): Effect.Effect<void> =>
  Effect.suspend(() => {
    if (Exit.isSuccess(exit)) {
      if (kind === "refresh") state.counters.incr("refreshSuccesses")
      state.retryAfter.delete(flight.key)
      if (flight.discarded) return Effect.void
      return Effect.flatMap(
        newEntry(state, exit.value, flight.schema, policy),
        (entry) =>
          entry === undefined || flight.discarded ? Effect.void : write(state, flight.key, withFences(entry, fences))
      )
    }
    if (Cause.isInterruptedOnly(exit.cause)) return Effect.void
    return Effect.clockWith((clock) => {
      const now = clock.unsafeCurrentTimeMillis()
      state.counters.incr(kind === "refresh" ? "refreshFailures" : "computeFailures")
      if (policy.staleIfError > 0 || policy.staleWhileRevalidate > 0 || policy.refreshAfter < policy.ttl) {
        throttle(state, flight.key, now + policy.staleIfErrorRetry)
      }
      const log = kind === "refresh"
        ? Effect.logWarning(`layercake: refresh of "${flight.key}" failed; keeping the cached value`, exit.cause)
        : Effect.void
      const failure = Cause.failureOption(exit.cause)
      const errorSchema = flight.errorSchema
      if (
        flight.discarded || policy.errorTtl === 0 || !flight.mayCacheFailure || errorSchema === undefined ||
        Option.isNone(failure) || !isGuarded(errorSchema, failure.value)
      ) return log
      return Effect.zipRight(
        log,
        Effect.flatMap(negativeEntry(state, failure.value, errorSchema, policy), (entry) =>
          flight.discarded ? Effect.void : write(state, flight.key, withFences(entry, fences)))
      )
    })
  })

const withFences = <A>(entry: Entry<A>, fences: Entry<any>["fences"]): Entry<A> =>
  fences === undefined ? entry : { ...entry, fences }

/** `Schema.is`, with Schema code that throws answering `false`. */
const isGuarded = (schema: Schema.Schema<any, any>, value: unknown): boolean => {
  try {
    return Schema.is(schema)(value)
  } catch {
    return false
  }
}

const throttle = (state: CacheState, fullKey: string, until: number) => {
  if (state.retryAfter.size >= 10_000) state.retryAfter.delete(state.retryAfter.keys().next().value!)
  state.retryAfter.delete(fullKey)
  state.retryAfter.set(fullKey, until)
}

/** Starts one background refresh of the key, unless a failing source is being given a rest. @internal */
export const refreshInBackground = (
  state: CacheState,
  request: Call<any>,
  now: number
): Effect.Effect<void, never, any> => {
  if (now < (state.retryAfter.get(request.fullKey) ?? 0)) return Effect.void
  return Effect.asVoid(startFlight(state, request, now, "refresh", false))
}

/**
 * Joins (or starts) the key's flight and waits for it, bounded by the hard
 * timeout and, when a stale value may stand in, the soft timeout.
 * @internal
 */
export const computeAndWait = <A>(
  state: CacheState,
  request: Call<A>,
  now: number,
  stale: Entry<A> | undefined
): Effect.Effect<A, unknown, any> => {
  const { policy } = request
  return Effect.flatMap(
    startFlight(state, request, now, "compute", stale === undefined),
    ({ flight, started }) => {
      if (!started) state.counters.incr("coalesced")
      flight.waiters++
      const hardLeft = flight.startedAt + policy.hardTimeout - now
      const softLeft = stale === undefined ? Infinity : flight.startedAt + policy.softTimeout - now
      const limit = Math.max(0, Math.min(hardLeft, softLeft))
      const settled = (exit: Exit.Exit<any, any>): Effect.Effect<A, unknown, any> => {
        flight.waiters--
        if (Exit.isSuccess(exit)) return adopt(state, flight, exit.value, request)
        if (stale !== undefined && !Cause.isInterruptedOnly(exit.cause)) {
          return serveStale(state, flight.key, stale, exit.cause)
        }
        const failure = Cause.failureOption(exit.cause)
        if (Option.isSome(failure) && !sharesFailure(flight, request, failure.value)) return request.compute
        return exit as Exit.Exit<never, unknown>
      }
      const left = () => leave(state, flight)
      if (limit === Infinity) return flight.await(settled, left)
      // the timeout interrupts the wait without leaving: `timedOut` decides how to leave
      const waited = Effect.timeoutOption(flight.await(Effect.succeed, () => Effect.void), limit)
      return Effect.flatMap(
        Effect.onInterrupt(waited, left),
        (result) =>
          Option.isNone(result) ? timedOut(state, flight, stale, softLeft <= hardLeft, policy) : settled(result.value)
      )
    }
  )
}

/**
 * The flight's value as a value of the caller's schema; when it does not
 * convert (two shapes under one key), the caller computes on its own.
 */
const adopt = <A>(
  state: CacheState,
  flight: Flight,
  value: unknown,
  request: Call<A>
): Effect.Effect<A, unknown, any> => {
  if (flight.schema === request.schema) return Effect.succeed(value as A)
  const converted = convert(state.userKey(flight.key), value, flight.schema, request.schema)
  if (!(converted instanceof DecodeFailure)) return Effect.succeed(converted.value)
  state.counters.incr("decodeFailures")
  return request.compute
}

/**
 * Whether a caller may receive the flight's typed failure as its own: when
 * it asked for the same shape (and so, by the contract of `getOrCompute`,
 * runs the same compute), or when the failure decodes with its `errorSchema`.
 */
const sharesFailure = (flight: Flight, request: Call<any>, error: unknown): boolean => {
  if (sameShape(flight.schema, request.schema)) return true
  const errorSchema = request.errorSchema
  return errorSchema !== undefined && (flight.errorSchema === errorSchema || isGuarded(errorSchema, error))
}

const fingerprints = new WeakMap<Schema.Schema<any, any>, string>()

/** Two schema objects of one shape: the same object, or ASTs that print alike (inline schemas). */
const sameShape = (a: Schema.Schema<any, any>, b: Schema.Schema<any, any>): boolean =>
  a === b || a.ast === b.ast || fingerprint(a) === fingerprint(b)

const fingerprint = (schema: Schema.Schema<any, any>): string => {
  let print = fingerprints.get(schema)
  if (print === undefined) {
    try {
      print = String(schema.ast)
    } catch {
      print = `unprintable:${Math.random()}`
    }
    fingerprints.set(schema, print)
  }
  return print
}

const timedOut = <A>(
  state: CacheState,
  flight: Flight,
  stale: Entry<A> | undefined,
  soft: boolean,
  policy: Lifecycle.Policy
) => {
  if (soft && stale !== undefined) {
    state.counters.incr("softTimeouts")
    state.counters.incr("staleHits")
    flight.detached = true
    return Effect.as(leave(state, flight), stale.value)
  }
  state.counters.incr("hardTimeouts")
  const error = new ComputeTimeoutError({ key: state.userKey(flight.key), timeoutMillis: policy.hardTimeout })
  const fail = stale === undefined ? Effect.fail(error) : serveStale(state, flight.key, stale, Cause.fail(error))
  return Effect.zipRight(leave(state, flight), fail)
}

/** @internal */
export const serveStale = <A>(state: CacheState, fullKey: string, stale: Entry<A>, cause: Cause.Cause<unknown>) => {
  state.counters.incr("staleHits")
  state.counters.incr("staleIfErrorServed")
  return Effect.as(
    Effect.logWarning(`layercake: compute of "${fullKey}" failed; serving the stale value`, cause),
    stale.value
  )
}

/** A waiter stops waiting; the last one out interrupts a flight nobody else needs. */
const leave = (state: CacheState, flight: Flight): Effect.Effect<void> =>
  Effect.suspend(() => {
    flight.waiters--
    if (flight.waiters > 0 || flight.detached || flight.fiber === undefined) return Effect.void
    const fiber = flight.fiber
    state.inflight.release(flight)
    return Effect.asVoid(Effect.forkDaemon(fiber.interruptAsFork(fiber.id())))
  })
