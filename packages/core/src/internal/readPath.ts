import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import type * as Schema from "effect/Schema"
import type { EntryOptions } from "../Cache.js"
import type { Entry, ReadResult } from "../CacheTier.js"
import type { ComputeTimeoutError } from "./errors.js"
import * as Flights from "./flights.js"
import * as Lifecycle from "./lifecycle.js"
import * as LocalCopies from "./localCopies.js"
import { toMillis } from "./policy.js"
import * as Stack from "./stack.js"
import type { CacheState } from "./state.js"
import { traced } from "./tracing.js"
import * as Validate from "./validate.js"

/** The fiber's `Clock`: what `Effect.clockWith` gives, read with the tracer in one step. */
const clockOf = (fiber: Fiber.RuntimeFiber<any, any>): Clock.Clock =>
  Context.unsafeGet(fiber.currentDefaultServices, Clock.Clock)

/**
 * `refreshAfter` of the key for the L1 hit, without resolving the whole
 * policy. Invalid options give a value that makes the hit check fail, and the
 * slow path reports them.
 */
const hotRefreshAfter = (state: CacheState, fullKey: string, options: EntryOptions | undefined): number => {
  const defaults = state.defaults
  if (options === undefined) {
    return Lifecycle.refreshAfterFor(fullKey, defaults.refreshAfter, defaults.ttl, defaults.refreshJitter)
  }
  const ttl = options.ttl === undefined
    ? defaults.ttl
    : typeof options.ttl === "function"
    ? Infinity
    : toMillis(options.ttl)
  return Lifecycle.refreshAfterFor(
    fullKey,
    options.refreshAfter === undefined ? defaults.refreshAfter : toMillis(options.refreshAfter),
    ttl,
    options.refreshJitter ?? defaults.refreshJitter
  )
}

/**
 * The read-through past the top tier's synchronous answer `first`, or from the
 * top when it has no synchronous access.
 */
const readOn = <A>(
  state: CacheState,
  first: ReadResult<A>,
  fullKey: string,
  schema: Schema.Schema<A, any>,
  errorSchema: Schema.Schema<any, any> | undefined,
  now: number
): Stack.Read<A> => {
  if (state.bus._tag === "Some") state.rememberSchema(fullKey, schema)
  // a key whose invalidation has not landed in a shared tier is read from the local tiers only
  if (state.isSuspect(fullKey)) return Stack.read(state.local, 0, fullKey, schema, errorSchema, now, state.observer)
  const read = state.topSync === undefined
    ? Stack.read(state.members, 0, fullKey, schema, errorSchema, now, state.observer)
    : Stack.readAfterFirst(state.members, first, fullKey, schema, errorSchema, now, state.observer)
  return Effect.isEffect(read) ? LocalCopies.guardPromotion(state, fullKey, read) : read
}

/**
 * `getOrCompute`, top to bottom: read through the tiers; a fresh hit is the
 * answer; otherwise decide by the entry's state (refresh in the background,
 * serve stale, or compute and wait).
 * @internal
 */
export const getOrCompute = <A, E, R>(
  state: CacheState,
  key: string,
  schema: Schema.Schema<A, any>,
  compute: Effect.Effect<A, E, R>,
  options: EntryOptions | undefined
): Effect.Effect<A, E | ComputeTimeoutError, R> =>
  Effect.withFiberRuntime((fiber) => getOrComputeIn(state, fiber, key, schema, compute, options))

/** `getOrCompute` in the running `fiber`: the accessors call it without a step of their own. @internal */
export const getOrComputeIn = <A, E, R>(
  state: CacheState,
  fiber: Fiber.RuntimeFiber<any, any>,
  key: string,
  schema: Schema.Schema<A, any>,
  compute: Effect.Effect<A, E, R>,
  options: EntryOptions | undefined
): Effect.Effect<A, E | ComputeTimeoutError, R> => {
  const clock = clockOf(fiber)
  const now = clock.unsafeCurrentTimeMillis()
  const fullKey = state.prefix + key
  const errorSchema = options?.errorSchema
  const first = state.topSync?.get(fullKey, schema, errorSchema, now)
  if (Lifecycle.isFreshHit(first, now, hotRefreshAfter(state, fullKey, options))) {
    state.counters.topHit()
    return Effect.succeed(first.value)
  }
  const read = readOn(state, first, fullKey, schema, errorSchema, now)
  const decided = Effect.suspend(() => {
    Validate.checkKey("key", key)
    const request = Flights.call(fullKey, schema, compute, state.policy(options))
    return Effect.isEffect(read)
      ? Effect.flatMap(read, (found) => decide(state, clock, request, found))
      : decide(state, clock, request, read)
  })
  return traced(fiber.currentTracer, decided, "layercake.getOrCompute", {
    "cache.namespace": state.namespace,
    "cache.key": fullKey
  }) as Effect.Effect<A, E | ComputeTimeoutError, R>
}

const decide = <A>(
  state: CacheState,
  clock: Clock.Clock,
  request: Flights.Call<A>,
  found: Entry<A> | undefined
): Effect.Effect<A, unknown, any> => {
  const now = clock.unsafeCurrentTimeMillis()
  const { fullKey, policy } = request
  const refreshAt = found === undefined ? Infinity : Lifecycle.refreshAt(fullKey, found.createdAt, policy)
  switch (Lifecycle.classify(found, now, policy, refreshAt)) {
    case "Fresh":
      state.counters.incr("hits")
      return Effect.succeed(found!.value)
    case "NegativeFresh":
      state.counters.incr("negativeHits")
      return Effect.fail(found!.value as unknown)
    case "RefreshDue":
      state.counters.incr("hits")
      return Effect.as(Flights.refreshInBackground(state, request, now), found!.value)
    case "StaleWhileRevalidate":
      state.counters.incr("staleHits")
      return Effect.as(Flights.refreshInBackground(state, request, now), found!.value)
    case "StaleIfError":
      if (now < (state.retryAfter.get(fullKey) ?? 0)) {
        state.counters.incr("staleHits")
        state.counters.incr("staleIfErrorServed")
        return Effect.succeed(found!.value)
      }
      return Flights.computeAndWait(state, request, now, found)
    case "Missing":
      state.counters.incr("misses")
      return Flights.computeAndWait(state, request, now, undefined)
  }
}

/** What `get` answers for what the tiers gave at `now`, counted: the value while fresh or stale within `staleWhileRevalidate`. @internal */
export const answerOfGet = <A>(state: CacheState, found: Entry<A> | undefined, now: number): Option.Option<A> => {
  switch (Lifecycle.classify(found, now, state.defaults, Infinity)) {
    case "Fresh":
    case "RefreshDue":
      state.counters.incr("hits")
      return Option.some(found!.value)
    case "StaleWhileRevalidate":
      state.counters.incr("staleHits")
      return Option.some(found!.value)
    default:
      state.counters.incr("misses")
      return Option.none()
  }
}

/** `get`: the value while fresh, or stale within `staleWhileRevalidate`; starts nothing. @internal */
export const get = <A>(
  state: CacheState,
  key: string,
  schema: Schema.Schema<A, any>
): Effect.Effect<Option.Option<A>> => Effect.withFiberRuntime((fiber) => getIn(state, fiber, key, schema))

/** `get` in the running `fiber`. @internal */
export const getIn = <A>(
  state: CacheState,
  fiber: Fiber.RuntimeFiber<any, any>,
  key: string,
  schema: Schema.Schema<A, any>
): Effect.Effect<Option.Option<A>> => {
  const clock = clockOf(fiber)
  const now = clock.unsafeCurrentTimeMillis()
  const fullKey = state.prefix + key
  const first = state.topSync?.get(fullKey, schema, undefined, now)
  if (Lifecycle.isFreshHit(first, now, Infinity)) {
    state.counters.topHit()
    return Effect.succeed(Option.some(first.value))
  }
  const read = readOn(state, first, fullKey, schema, undefined, now)
  const classify = (found: Entry<A> | undefined) => answerOfGet(state, found, clock.unsafeCurrentTimeMillis())
  const decided = Effect.isEffect(read) ? Effect.map(read, classify) : Effect.sync(() => classify(read))
  return traced(fiber.currentTracer, decided, "layercake.get", {
    "cache.namespace": state.namespace,
    "cache.key": fullKey
  })
}

/**
 * `refresh`: recomputes the key in a fiber of the layer's scope (joining a
 * compute of it already running) and returns at once.
 * @internal
 */
export const refresh = <A, E, R>(
  state: CacheState,
  key: string,
  schema: Schema.Schema<A, any>,
  compute: Effect.Effect<A, E, R>,
  options: EntryOptions | undefined
): Effect.Effect<void, never, R> =>
  Effect.clockWith((clock) => {
    Validate.checkKey("key", key)
    const request = Flights.call(state.prefix + key, schema, compute, state.policy(options))
    return Flights.refreshInBackground(state, request, clock.unsafeCurrentTimeMillis())
  })
