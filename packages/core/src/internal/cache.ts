import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as ParseResult from "effect/ParseResult"
import * as Queue from "effect/Queue"
import * as Schedule from "effect/Schedule"
import type * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import type * as Api from "../Cache.js"
import type { CacheTier as Tier } from "../CacheTier.js"
import * as Batch from "./batch.js"
import { tag as busTag } from "./bus.js"
import { tag, TypeId } from "./cacheTag.js"
import type { ComputeTimeoutError } from "./errors.js"
import * as Invalidation from "./invalidation.js"
import { tag as lockTag } from "./lock.js"
import * as Policy from "./policy.js"
import * as ReadPath from "./readPath.js"
import { CacheState } from "./state.js"
import { membersOf, tag as tierTag } from "./tier.js"
import { span } from "./tracing.js"
import * as Writes from "./writes.js"

/** The health of a bus that tells nothing of itself (in-process). */
const connectedBus = { connected: true, gaps: 0, replayed: 0, dropped: 0, publishRetries: 0 }

const ratio = (part: number, whole: number): number => whole === 0 ? 0 : part / whole

/** The default clock, for background bookkeeping that must not follow a TestClock. */
const liveClock = Clock.make()

/**
 * The `Cache` service. Each concern lives in its own module over the shared
 * `CacheState`: the read path (`readPath.ts`), computes in flight
 * (`flights.ts`), writes (`writes.ts`) and invalidation (`invalidation.ts`).
 */
class CacheImpl implements Api.Cache {
  readonly [TypeId]: typeof TypeId = TypeId
  readonly namespace: string
  readonly instanceId: string
  readonly clear: Effect.Effect<void>
  readonly stats: Effect.Effect<Api.Stats>

  constructor(readonly state: CacheState) {
    this.namespace = state.namespace
    this.instanceId = state.instanceId
    this.clear = Invalidation.clear(state).pipe(this.span("layercake.clear"))
    const busHealth = Option.match(state.bus, {
      onNone: () => Effect.succeed(undefined),
      onSome: (bus) => bus.health ?? Effect.succeed(connectedBus)
    })
    this.stats = Effect.zipWith(FiberSet.size(state.fibers), busHealth, (inFlight, bus) => {
      state.counters.flush()
      const values = state.counters.values
      const served = values.hits + values.staleHits + values.negativeHits
      return {
        ...values,
        hitRatio: ratio(served, served + values.misses),
        inFlight,
        perTier: state.counters.tiers.map((tier) => ({ ...tier, hitRatio: ratio(tier.hits, tier.hits + tier.misses) })),
        fleet: { bus, lock: Option.isSome(state.lock), suspect: state.suspectKeys.size + state.suspectAll }
      }
    })
  }

  span(name: string, attributes: Record<string, unknown> = {}) {
    return span(name, { "cache.namespace": this.namespace, ...attributes })
  }

  getOrCompute<A, I, E, R, EC = never>(
    key: string,
    schema: Schema.Schema<A, I>,
    compute: Effect.Effect<A, E, R>,
    options?: Api.EntryOptions<NoInfer<A>, EC> & Api.ErrorSchemaFits<E, EC>
  ): Effect.Effect<A, E | ComputeTimeoutError, R> {
    return ReadPath.getOrCompute(this.state, key, schema, compute, options)
  }

  getMany<A, I>(
    keys: ReadonlyArray<string>,
    schema: Schema.Schema<A, I>
  ): Effect.Effect<ReadonlyArray<Option.Option<A>>> {
    return Batch.getMany(this.state, keys, schema)
  }

  getOrComputeMany<A, I, E, R>(
    keys: ReadonlyArray<string>,
    schema: Schema.Schema<A, I>,
    computeMissing: (keys: ReadonlyArray<string>) => Effect.Effect<Api.Computed<A>, E, R>,
    options?: Api.EntryOptions<NoInfer<A>, any> | ((key: string) => Api.EntryOptions<NoInfer<A>, any> | undefined)
  ): Effect.Effect<ReadonlyArray<Option.Option<A>>, E | ComputeTimeoutError, R> {
    return Batch.getOrComputeMany(this.state, keys, schema, computeMissing, options)
  }

  refresh<A, I, E, R>(
    key: string,
    schema: Schema.Schema<A, I>,
    compute: Effect.Effect<A, E, R>,
    options?: Api.EntryOptions<NoInfer<A>, any>
  ): Effect.Effect<void, never, R> {
    return ReadPath.refresh(this.state, key, schema, compute, options)
  }

  get<A, I>(key: string, schema: Schema.Schema<A, I>): Effect.Effect<Option.Option<A>> {
    return ReadPath.get(this.state, key, schema)
  }

  set<A, I>(
    key: string,
    schema: Schema.Schema<A, I>,
    value: A,
    options?: Api.SetOptions<NoInfer<A>>
  ): Effect.Effect<void, ParseResult.ParseError> {
    return Writes.set(this.state, key, schema, value, options).pipe(
      this.span("layercake.set", { "cache.key": this.state.prefix + key })
    )
  }

  invalidate(key: string | ReadonlyArray<string>): Effect.Effect<void> {
    const keys = typeof key === "string" ? [key] : key
    return Invalidation.invalidate(this.state, keys).pipe(this.span("layercake.invalidate", { "cache.keys": keys }))
  }

  invalidatePattern(pattern: string): Effect.Effect<void> {
    return Invalidation.invalidatePattern(this.state, pattern).pipe(
      this.span("layercake.invalidatePattern", { "cache.pattern": pattern })
    )
  }

  invalidateTags(tags: ReadonlyArray<string>): Effect.Effect<void> {
    return Invalidation.invalidateTags(this.state, tags).pipe(
      this.span("layercake.invalidateTags", { "cache.tags": tags })
    )
  }
}

/** @internal */
export const make = (options: Api.Options): Effect.Effect<Api.Cache, never, Tier | Scope.Scope> =>
  Effect.gen(function*() {
    const { defaults, namespace } = yield* Effect.sync(() => {
      const namespace = Policy.validateNamespace(options.namespace)
      return { namespace, defaults: Policy.defaults(options, `${namespace}:`) }
    })
    const tier = yield* tierTag
    const bus = yield* Effect.serviceOption(busTag)
    const lock = yield* Effect.serviceOption(lockTag)
    const fibers = yield* FiberSet.make<void, never>()
    const random = yield* Effect.random
    const state = new CacheState(namespace, defaults, membersOf(tier), fibers, bus, lock, random)
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        state.closed = true
        state.counters.flush()
      })
    )
    // Metrics bookkeeping, not cache semantics: on the live clock, so that a TestClock
    // advanced by a day does not wake this fiber 86 400 times.
    yield* Effect.forkScoped(
      Effect.repeat(Effect.sync(() => state.counters.flush()), Schedule.spaced("1 second")).pipe(
        Effect.withClock(liveClock)
      )
    )
    if (Option.isNone(bus) && state.firstShared > 0 && state.local.length > 0) {
      yield* Effect.logWarning(
        `layercake: Cache "${namespace}" keeps local copies over a shared tier without an invalidation bus: writes and invalidations made by other instances stay invisible here until the local copy expires. Provide a bus (RedisBus.layer()) to keep instances coherent.`
      )
    }
    if (Option.isSome(bus)) {
      for (const member of state.members) member.tagTimes?.keepLocally()
      const messages = yield* (bus.value.subscribeTo?.(namespace) ?? bus.value.subscribe)
      yield* Effect.forkScoped(
        Effect.forever(Effect.flatMap(Queue.take(messages), (message) => Invalidation.receive(state, message)))
      )
    }
    return new CacheImpl(state)
  })

/** @internal */
export const layer = (options: Api.Options): Layer.Layer<Api.Cache, never, Tier> => Layer.scoped(tag, make(options))

/**
 * `Cache.getOrCompute` as an accessor: the service is read from the fiber's
 * context in the same step as the L1 hit check (one step where
 * `Effect.flatMap(Cache, …)` takes three).
 * @internal
 */
export const accessGetOrCompute = <A, E, R>(
  key: string,
  schema: Schema.Schema<A, any>,
  compute: Effect.Effect<A, E, R>,
  options: Api.EntryOptions | undefined
): Effect.Effect<A, E | ComputeTimeoutError, R | Api.Cache> =>
  Effect.withFiberRuntime((fiber) => {
    const cache = Context.unsafeGet(fiber.currentContext, tag)
    return cache instanceof CacheImpl
      ? ReadPath.getOrComputeIn(cache.state, fiber, key, schema, compute, options)
      : cache.getOrCompute(key, schema, compute, options as any)
  })

/** `Cache.get` as an accessor, like `accessGetOrCompute`. @internal */
export const accessGet = <A>(
  key: string,
  schema: Schema.Schema<A, any>
): Effect.Effect<Option.Option<A>, never, Api.Cache> =>
  Effect.withFiberRuntime((fiber) => {
    const cache = Context.unsafeGet(fiber.currentContext, tag)
    return cache instanceof CacheImpl ? ReadPath.getIn(cache.state, fiber, key, schema) : cache.get(key, schema)
  })
