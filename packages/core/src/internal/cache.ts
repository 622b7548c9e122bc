import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as FiberSet from "effect/FiberSet"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import type * as Random from "effect/Random"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import type * as Tracer from "effect/Tracer"
import type * as Api from "../Cache.js"
import { Cache, ComputeTimeoutError, TypeId } from "../Cache.js"
import type { CacheTier as Tier, Entry } from "../CacheTier.js"
import { CacheTier, DecodeFailure, NotFound } from "../CacheTier.js"
import type { Message } from "../InvalidationBus.js"
import { InvalidationBus } from "../InvalidationBus.js"
import { convert } from "./entry.js"
import { Flight, Inflight } from "./inflight.js"
import * as Lifecycle from "./lifecycle.js"
import { Counters } from "./metrics.js"
import * as Policy from "./policy.js"
import { forEachMember, readFrom, type ReadObserver } from "./stack.js"

type Compute = Effect.Effect<any, any, any>

/** The fiber's `Clock`: what `Effect.clockWith` gives, read with the tracer in one step. */
const clockOf = (fiber: Fiber.RuntimeFiber<any, any>): Clock.Clock =>
  Context.unsafeGet(fiber.currentDefaultServices, Clock.Clock)

/** The default clock, for background bookkeeping that must not follow a TestClock. */
const liveClock = Clock.make()

/** The tracer of Effect's default services (no exporter behind it). */
const builtInTracer = Effect.runSync(Effect.tracer)

/** @internal */
export const make = (options: Api.Options): Effect.Effect<Api.Cache, never, Tier | Scope.Scope> =>
  Effect.gen(function*() {
    const { defaults, namespace } = yield* Effect.try({
      try: () => ({
        namespace: Policy.validateNamespace(options.namespace),
        defaults: Policy.defaults(options, `${options.namespace}:`)
      }),
      catch: (error) => error
    }).pipe(Effect.orDie)
    const tier = yield* CacheTier
    const bus = yield* Effect.serviceOption(InvalidationBus)
    const fibers = yield* FiberSet.make<void, never>()
    const random = yield* Effect.random
    const cache = new CacheImpl(namespace, defaults, tier.members, fibers, bus, random)
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        cache.closed = true
        cache.counters.flush()
      })
    )
    // Metrics bookkeeping, not cache semantics: on the live clock, so that a TestClock
    // advanced by a day does not wake this fiber 86 400 times.
    yield* Effect.forkScoped(
      Effect.repeat(Effect.sync(() => cache.counters.flush()), Schedule.spaced("1 second")).pipe(
        Effect.withClock(liveClock)
      )
    )
    if (Option.isSome(bus)) {
      const messages = yield* bus.value.subscribe
      yield* Effect.forkScoped(
        Effect.forever(Effect.flatMap(Queue.take(messages), (message) => cache.receive(message)))
      )
    }
    return cache.service()
  })

/** @internal */
export const layer = (options: Api.Options): Layer.Layer<Api.Cache, never, Tier> => Layer.scoped(Cache, make(options))

class CacheImpl {
  readonly instanceId = crypto.randomUUID()
  readonly prefix: string
  readonly counters: Counters
  readonly inflight = new Inflight()
  /** key -> time before which a failing source is not retried while stale is served. */
  readonly retryAfter = new Map<string, number>()
  /**
   * Shared tiers treat an entry created at or before its tag's invalidation
   * time as invalidated, at millisecond resolution. To keep this instance's own
   * writes and tag invalidations in order within one millisecond, a tagged
   * write is stamped after the last tag invalidation, and a tag invalidation
   * at or after the last tagged write (see `stampWrite` / `stampInvalidation`).
   */
  lastTagInvalidation = -Infinity
  lastTaggedWrite = -Infinity
  /** Set when the layer's scope closes: no fiber may be started any more. */
  closed = false
  readonly local: ReadonlyArray<Tier>
  readonly peek: Tier["peekFresh"]
  readonly observer: ReadObserver

  constructor(
    readonly namespace: string,
    readonly defaults: Lifecycle.Policy,
    readonly members: ReadonlyArray<Tier>,
    readonly fibers: FiberSet.FiberSet<void, never>,
    readonly bus: Option.Option<InvalidationBus>,
    readonly random: Random.Random
  ) {
    this.prefix = `${namespace}:`
    this.counters = new Counters(namespace, members.map((member) => member.name))
    this.local = members.filter((member) => member.kind === "local")
    this.peek = members[0].kind === "local" ? members[0].peekFresh : undefined
    const counters = this.counters
    this.observer = {
      hit: (index) => counters.tier(index, "hits"),
      miss: (index) => counters.tier(index, "misses"),
      decodeFailure: (index) => {
        counters.tier(index, "misses")
        counters.incr("decodeFailures")
      },
      error: (index) => this.tierError(index)
    }
  }

  tierError = (index: number) => {
    this.counters.tier(index, "errors")
    this.counters.incr("tierErrors")
  }

  service(): Api.Cache {
    return {
      [TypeId]: TypeId,
      namespace: this.namespace,
      instanceId: this.instanceId,
      getOrCompute: (key, schema, compute, options) => this.getOrCompute(key, schema, compute, options),
      get: (key, schema) => this.get(key, schema),
      set: (key, schema, value, options) => this.set(key, schema, value, options),
      invalidate: (keys) => this.invalidate(typeof keys === "string" ? [keys] : keys),
      invalidateTags: (tags) => this.invalidateTags(tags),
      clear: this.clear(),
      stats: this.stats()
    }
  }

  /**
   * A span for a slow-path operation, when a tracer is installed (e.g.
   * `@effect/opentelemetry`). Under Effect's built-in tracer, whose spans go
   * nowhere, a span would cost about 8 µs per operation (random ids, a map,
   * two clock reads): more than the rest of an L2 hit's CPU work.
   */
  span(name: string, attributes: Record<string, unknown> = {}) {
    return <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
      Effect.tracerWith((tracer) => this.traced(tracer, self, name, undefined, attributes))
  }

  /** `self` in a span named `name` unless `tracer` is Effect's built-in one (see `span`). */
  traced<A, E, R>(
    tracer: Tracer.Tracer,
    self: Effect.Effect<A, E, R>,
    name: string,
    fullKey: string | undefined,
    attributes: Record<string, unknown> = {}
  ): Effect.Effect<A, E, R> {
    return tracer === builtInTracer ? self : Effect.withSpan(self, name, this.spanOptions(fullKey, attributes))
  }

  spanOptions(fullKey: string | undefined, attributes: Record<string, unknown> = {}) {
    const all = fullKey === undefined ? attributes : { "cache.key": fullKey, ...attributes }
    return { captureStackTrace: false, attributes: { "cache.namespace": this.namespace, ...all } }
  }

  // ---------------------------------------------------------------------------
  // read path

  policy(options: Api.EntryOptions | undefined): Lifecycle.Policy {
    return options === undefined ? this.defaults : Policy.resolve(options, this.defaults, this.prefix)
  }

  /**
   * `refreshAfter` for the L1 fast path, without resolving the whole policy.
   * Invalid options give a value that makes the peek miss, and the slow path
   * reports them.
   */
  hotRefreshAfter(fullKey: string, options: Api.EntryOptions | undefined): number {
    const defaults = this.defaults
    if (options === undefined) {
      return Lifecycle.refreshAfterFor(fullKey, defaults.refreshAfter, defaults.ttl, defaults.refreshJitter)
    }
    return Lifecycle.refreshAfterFor(
      fullKey,
      options.refreshAfter === undefined ? defaults.refreshAfter : Policy.toMillis(options.refreshAfter),
      options.ttl === undefined ? defaults.ttl : Policy.toMillis(options.ttl),
      options.refreshJitter ?? defaults.refreshJitter
    )
  }

  getOrCompute<A, E, R>(
    key: string,
    schema: Schema.Schema<A, any>,
    compute: Effect.Effect<A, E, R>,
    options: Api.EntryOptions | undefined
  ): Effect.Effect<A, E | ComputeTimeoutError, R> {
    const peek = this.peek
    return Effect.withFiberRuntime((fiber) => {
      const clock = clockOf(fiber)
      const fullKey = this.prefix + key
      if (peek !== undefined) {
        const value = peek(fullKey, schema, clock.unsafeCurrentTimeMillis(), this.hotRefreshAfter(fullKey, options))
        if (value !== NotFound) {
          this.counters.l1Hit()
          return Effect.succeed(value)
        }
      }
      const slow = this.slowGetOrCompute(clock, fullKey, schema, compute, options)
      return this.traced(fiber.currentTracer, slow, "layercake.getOrCompute", fullKey)
    })
  }

  slowGetOrCompute<A, E, R>(
    clock: Clock.Clock,
    fullKey: string,
    schema: Schema.Schema<A, any>,
    compute: Effect.Effect<A, E, R>,
    options: Api.EntryOptions | undefined
  ): Effect.Effect<A, E | ComputeTimeoutError, R> {
    const policy = this.policy(options)
    return Effect.flatMap(
      readFrom(clock, this.members, 0, fullKey, schema, this.observer),
      (found): Effect.Effect<A, any, any> => {
        const now = clock.unsafeCurrentTimeMillis()
        const refreshAt = found === undefined ? Infinity : Lifecycle.refreshAt(fullKey, found.createdAt, policy)
        switch (Lifecycle.classify(found, now, policy, refreshAt)) {
          case "Fresh":
            this.counters.incr("hits")
            return Effect.succeed(found!.value)
          case "NegativeFresh":
            this.counters.incr("negativeHits")
            return Effect.fail(found!.value as unknown)
          case "RefreshDue":
            this.counters.incr("hits")
            return Effect.as(this.refreshInBackground(fullKey, schema, compute, policy, now), found!.value)
          case "StaleWhileRevalidate":
            this.counters.incr("staleHits")
            return Effect.as(this.refreshInBackground(fullKey, schema, compute, policy, now), found!.value)
          case "StaleIfError":
            if (now < (this.retryAfter.get(fullKey) ?? 0)) {
              this.counters.incr("staleHits")
              this.counters.incr("staleIfErrorServed")
              return Effect.succeed(found!.value)
            }
            return this.computeAndWait(fullKey, schema, compute, policy, now, found)
          case "Missing":
            this.counters.incr("misses")
            return this.computeAndWait(fullKey, schema, compute, policy, now, undefined)
        }
      }
    ) as Effect.Effect<A, E | ComputeTimeoutError, R>
  }

  // ---------------------------------------------------------------------------
  // computes: one flight per key, run in a fiber of the layer's scope

  startFlight(
    fullKey: string,
    schema: Schema.Schema<any, any>,
    compute: Compute,
    policy: Lifecycle.Policy,
    now: number,
    kind: "compute" | "refresh",
    mayCacheFailure = false
  ): Effect.Effect<{ readonly flight: Flight; readonly started: boolean }, never, any> {
    if (this.closed) {
      return Effect.dieMessage(`layercake: Cache "${this.namespace}" used after its layer's scope closed`)
    }
    return Effect.flatMap(Deferred.make<any, any>(), (deferred) =>
      Effect.tap(
        this.inflight.join(fullKey, () =>
          new Flight(fullKey, schema, deferred, now, policy.tags, kind === "refresh", mayCacheFailure)),
        ({ flight, started }) => {
          if (!started) {
            return Effect.void
          }
          return Effect.map(FiberSet.run(this.fibers, this.runFlight(flight, compute, policy, kind)), (fiber) => {
            flight.fiber = fiber
          })
        }
      ))
  }

  /** The body of a flight's fiber: only `compute` itself is interruptible. */
  runFlight(
    flight: Flight,
    compute: Compute,
    policy: Lifecycle.Policy,
    kind: "compute" | "refresh"
  ): Effect.Effect<void, never, any> {
    return Effect.uninterruptible(
      Effect.gen(this, function*() {
        const cached = kind === "compute" ? yield* this.peekAgain(flight, policy) : NotFound
        if (cached !== NotFound) {
          yield* this.inflight.release(flight)
          return yield* Deferred.succeed(flight.deferred, cached)
        }
        this.counters.incr(kind === "refresh" ? "refreshes" : "computes")
        const exit = yield* Effect.exit(Effect.interruptible(compute))
        yield* this.settle(flight, exit, policy, kind).pipe(
          Effect.catchAllCause((cause) => {
            this.counters.incr("backgroundDefects")
            return Effect.logError("layercake: storing a computed value failed", cause)
          })
        )
        yield* this.inflight.release(flight)
        yield* Deferred.done(flight.deferred, exit)
      })
    )
  }

  /**
   * A caller can miss in the tiers just before the previous flight of its key
   * stores its value and ends; checking L1 once more here keeps that caller
   * from computing again.
   */
  peekAgain(flight: Flight, policy: Lifecycle.Policy): Effect.Effect<unknown> {
    const peek = this.peek
    if (peek === undefined) return Effect.succeed(NotFound)
    return Effect.clockWith((clock) =>
      Effect.succeed(
        peek(
          flight.key,
          flight.schema,
          clock.unsafeCurrentTimeMillis(),
          Lifecycle.refreshAfterFor(flight.key, policy.refreshAfter, policy.ttl, policy.refreshJitter)
        )
      )
    )
  }

  settle(
    flight: Flight,
    exit: Exit.Exit<any, any>,
    policy: Lifecycle.Policy,
    kind: "compute" | "refresh"
  ): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (Exit.isSuccess(exit)) {
        if (kind === "refresh") this.counters.incr("refreshSuccesses")
        this.retryAfter.delete(flight.key)
        if (flight.discarded) return Effect.void
        return Effect.flatMap(
          this.newEntry(exit.value, flight.schema, policy, false),
          (entry) => this.write(flight.key, entry)
        )
      }
      if (Cause.isInterruptedOnly(exit.cause)) return Effect.void
      return Effect.clockWith((clock) => {
        const now = clock.unsafeCurrentTimeMillis()
        this.counters.incr(kind === "refresh" ? "refreshFailures" : "computeFailures")
        if (policy.staleIfError > 0 || policy.staleWhileRevalidate > 0 || policy.refreshAfter < policy.ttl) {
          this.throttle(flight.key, now + policy.staleIfErrorRetry)
        }
        const failure = Cause.failureOption(exit.cause)
        const log = kind === "refresh"
          ? Effect.logWarning(`layercake: refresh of "${flight.key}" failed; keeping the cached value`, exit.cause)
          : Effect.void
        if (flight.discarded || policy.errorTtl === 0 || !flight.mayCacheFailure || Option.isNone(failure)) return log
        const entry: Entry<any> = {
          value: failure.value,
          schema: flight.schema,
          createdAt: now,
          freshUntil: now + policy.errorTtl,
          staleUntil: now + policy.errorTtl,
          tags: policy.tags,
          negative: true
        }
        return Effect.zipRight(log, this.write(flight.key, entry))
      })
    })
  }

  throttle(fullKey: string, until: number) {
    if (this.retryAfter.size >= 10_000) this.retryAfter.delete(this.retryAfter.keys().next().value!)
    this.retryAfter.delete(fullKey)
    this.retryAfter.set(fullKey, until)
  }

  refreshInBackground(
    fullKey: string,
    schema: Schema.Schema<any, any>,
    compute: Compute,
    policy: Lifecycle.Policy,
    now: number
  ) {
    if (now < (this.retryAfter.get(fullKey) ?? 0)) return Effect.void
    return Effect.asVoid(this.startFlight(fullKey, schema, compute, policy, now, "refresh"))
  }

  /**
   * Joins (or starts) the key's flight and waits for it, bounded by the hard
   * timeout and, when a stale value may stand in, the soft timeout.
   */
  computeAndWait<A>(
    fullKey: string,
    schema: Schema.Schema<A, any>,
    compute: Compute,
    policy: Lifecycle.Policy,
    now: number,
    stale: Entry<A> | undefined
  ): Effect.Effect<A, unknown, any> {
    const miss = stale === undefined
    return Effect.flatMap(
      this.startFlight(fullKey, schema, compute, policy, now, "compute", miss),
      ({ flight, started }) => {
        if (!started) this.counters.incr("coalesced")
        flight.waiters++
        const hardLeft = flight.startedAt + policy.hardTimeout - now
        const softLeft = stale === undefined ? Infinity : flight.startedAt + policy.softTimeout - now
        const limit = Math.max(0, Math.min(hardLeft, softLeft))
        const wait = Effect.exit(Deferred.await(flight.deferred))
        const waited = limit === Infinity ? Effect.map(wait, Option.some) : Effect.timeoutOption(wait, limit)
        return waited.pipe(
          Effect.onInterrupt(() => this.leave(flight)),
          Effect.flatMap((result): Effect.Effect<A, unknown, any> => {
            if (Option.isNone(result)) return this.timedOut(flight, stale, softLeft <= hardLeft, policy)
            flight.waiters--
            const exit = result.value
            if (Exit.isSuccess(exit)) {
              return flight.schema === schema
                ? Effect.succeed(exit.value as A)
                : this.adopt(flight, exit.value, schema, compute)
            }
            if (stale !== undefined && !Cause.isInterruptedOnly(exit.cause)) {
              return this.serveStale(fullKey, stale, exit.cause)
            }
            return exit as Exit.Exit<never, unknown>
          })
        )
      }
    )
  }

  /**
   * The result of a flight started with another schema object, as a value of
   * the caller's schema; when it does not convert (two shapes under one key),
   * the caller computes on its own.
   */
  adopt<A>(
    flight: Flight,
    value: unknown,
    schema: Schema.Schema<A, any>,
    compute: Compute
  ): Effect.Effect<A, unknown, any> {
    const converted = convert(this.userKey(flight.key), value, flight.schema, schema)
    if (!(converted instanceof DecodeFailure)) return Effect.succeed(converted.value)
    this.counters.incr("decodeFailures")
    return compute
  }

  userKey(fullKey: string): string {
    return fullKey.slice(this.prefix.length)
  }

  timedOut<A>(flight: Flight, stale: Entry<A> | undefined, soft: boolean, policy: Lifecycle.Policy) {
    if (soft && stale !== undefined) {
      this.counters.incr("softTimeouts")
      this.counters.incr("staleHits")
      flight.detached = true
      return Effect.as(this.leave(flight), stale.value)
    }
    this.counters.incr("hardTimeouts")
    const fail = stale === undefined
      ? Effect.fail(
        new ComputeTimeoutError({ key: this.userKey(flight.key), timeoutMillis: policy.hardTimeout })
      )
      : this.serveStale(
        flight.key,
        stale,
        Cause.fail(new ComputeTimeoutError({ key: this.userKey(flight.key), timeoutMillis: policy.hardTimeout }))
      )
    return Effect.zipRight(this.leave(flight), fail)
  }

  serveStale<A>(fullKey: string, stale: Entry<A>, cause: Cause.Cause<unknown>) {
    this.counters.incr("staleHits")
    this.counters.incr("staleIfErrorServed")
    return Effect.as(
      Effect.logWarning(`layercake: compute of "${fullKey}" failed; serving the stale value`, cause),
      stale.value
    )
  }

  /** A waiter stops waiting; the last one out interrupts a flight nobody else needs. */
  leave(flight: Flight): Effect.Effect<void> {
    return Effect.suspend(() => {
      flight.waiters--
      if (flight.waiters > 0 || flight.detached || flight.fiber === undefined) return Effect.void
      const fiber = flight.fiber
      return Effect.zipRight(
        this.inflight.release(flight),
        Effect.asVoid(Effect.forkDaemon(fiber.interruptAsFork(fiber.id())))
      )
    })
  }

  newEntry<A>(
    value: A,
    schema: Schema.Schema<A, any>,
    policy: Lifecycle.Policy,
    negative: boolean
  ): Effect.Effect<Entry<A>> {
    const build = (now: number, factor: number): Entry<A> => {
      const lifetime = Lifecycle.lifetime(now, policy, factor)
      const createdAt = policy.tags.length === 0 ? now : this.stampWrite(now)
      return { value, schema, ...lifetime, createdAt, tags: policy.tags, negative }
    }
    const now = Clock.currentTimeMillis
    if (policy.jitter === 0) return Effect.map(now, (now) => build(now, 1))
    return Effect.zipWith(now, this.random.next, (now, random) => build(now, 1 - policy.jitter * random))
  }

  write(fullKey: string, entry: Entry<any>): Effect.Effect<void> {
    return forEachMember(
      entry.negative ? this.local : this.members,
      (member) => member.set(fullKey, entry),
      (index) => this.tierError(index)
    )
  }

  // ---------------------------------------------------------------------------
  // get / set / invalidation

  get<A>(key: string, schema: Schema.Schema<A, any>): Effect.Effect<Option.Option<A>> {
    const peek = this.peek
    return Effect.withFiberRuntime((fiber) => {
      const clock = clockOf(fiber)
      const fullKey = this.prefix + key
      if (peek !== undefined) {
        const value = peek(fullKey, schema, clock.unsafeCurrentTimeMillis(), Infinity)
        if (value !== NotFound) {
          this.counters.l1Hit()
          return Effect.succeed(Option.some(value))
        }
      }
      return this.traced(fiber.currentTracer, this.slowGet(clock, fullKey, schema), "layercake.get", fullKey)
    })
  }

  slowGet<A>(clock: Clock.Clock, fullKey: string, schema: Schema.Schema<A, any>): Effect.Effect<Option.Option<A>> {
    return Effect.map(
      readFrom(clock, this.members, 0, fullKey, schema, this.observer),
      (found) => {
        switch (Lifecycle.classify(found, clock.unsafeCurrentTimeMillis(), this.defaults, Infinity)) {
          case "Fresh":
          case "RefreshDue":
            this.counters.incr("hits")
            return Option.some(found!.value)
          case "StaleWhileRevalidate":
            this.counters.incr("staleHits")
            return Option.some(found!.value)
          default:
            this.counters.incr("misses")
            return Option.none()
        }
      }
    )
  }

  set<A>(key: string, schema: Schema.Schema<A, any>, value: A, options: Api.EntryOptions | undefined) {
    const fullKey = this.prefix + key
    return Effect.suspend(() => {
      const policy = this.policy(options)
      return Schema.encode(schema)(value).pipe(
        Effect.zipRight(this.newEntry(value, schema, policy, false)),
        Effect.tap(() => this.inflight.discardKeys([fullKey])),
        Effect.tap((entry) => this.write(fullKey, entry)),
        Effect.zipRight(
          this.publish({ _tag: "KeysInvalidated", sender: this.instanceId, namespace: this.namespace, keys: [key] })
        )
      )
    }).pipe(
      this.span("layercake.set", { "cache.key": fullKey })
    )
  }

  invalidate(keys: ReadonlyArray<string>): Effect.Effect<void> {
    return Effect.zipRight(
      this.dropKeys(this.members, keys),
      this.publish({ _tag: "KeysInvalidated", sender: this.instanceId, namespace: this.namespace, keys })
    ).pipe(
      this.span("layercake.invalidate", { "cache.keys": keys })
    )
  }

  invalidateTags(tags: ReadonlyArray<string>): Effect.Effect<void> {
    return Effect.zipRight(
      this.dropTags(this.members, tags),
      this.publish({ _tag: "TagsInvalidated", sender: this.instanceId, namespace: this.namespace, tags })
    ).pipe(
      this.span("layercake.invalidateTags", { "cache.tags": tags })
    )
  }

  clear(): Effect.Effect<void> {
    return Effect.zipRight(
      this.dropAll(this.members),
      this.publish({ _tag: "Cleared", sender: this.instanceId, namespace: this.namespace })
    ).pipe(this.span("layercake.clear"))
  }

  dropKeys(members: ReadonlyArray<Tier>, keys: ReadonlyArray<string>) {
    const fullKeys = keys.map((key) => this.prefix + key)
    return Effect.zipRight(
      this.inflight.discardKeys(fullKeys),
      forEachMember(members, (member) => member.delete(fullKeys), this.tierErrorOf(members))
    )
  }

  stampWrite(now: number): number {
    const createdAt = now > this.lastTagInvalidation ? now : this.lastTagInvalidation + 1
    this.lastTaggedWrite = Math.max(this.lastTaggedWrite, createdAt)
    return createdAt
  }

  stampInvalidation(now: number): number {
    const at = Math.max(now, this.lastTaggedWrite)
    this.lastTagInvalidation = Math.max(this.lastTagInvalidation, at)
    return at
  }

  /** `tags` as the user wrote them; tiers and flights hold them prefixed with the namespace. */
  dropTags(members: ReadonlyArray<Tier>, tags: ReadonlyArray<string>) {
    const tagKeys = tags.map((tag) => this.prefix + tag)
    return Effect.clockWith((clock) => {
      const at = this.stampInvalidation(clock.unsafeCurrentTimeMillis())
      return Effect.zipRight(
        this.inflight.discard((flight) => flight.tags.some((tag) => tagKeys.includes(tag))),
        forEachMember(members, (member) => member.invalidateTags(tagKeys, at), this.tierErrorOf(members))
      )
    })
  }

  dropAll(members: ReadonlyArray<Tier>) {
    return Effect.zipRight(
      Effect.zipRight(this.inflight.discard(() => true), Effect.sync(() => this.retryAfter.clear())),
      forEachMember(members, (member) => member.clear(this.prefix), this.tierErrorOf(members))
    )
  }

  /** Maps an index into `members` (a subset) back to the stack's index for stats. */
  tierErrorOf(members: ReadonlyArray<Tier>) {
    return (index: number) => this.tierError(this.members.indexOf(members[index]))
  }

  publish(message: Exclude<Message, { readonly _tag: "Gap" }>): Effect.Effect<void> {
    if (Option.isNone(this.bus)) return Effect.void
    return this.bus.value.publish(message).pipe(
      Effect.catchAllCause((cause) => Effect.logWarning("layercake: publishing an invalidation failed", cause))
    )
  }

  /** Applies a message from another instance to the local tiers only. */
  receive(message: Message): Effect.Effect<void> {
    const apply = (): Effect.Effect<void> => {
      if (message._tag === "Gap") return this.dropAll(this.local)
      if (message.sender === this.instanceId || message.namespace !== this.namespace) return Effect.void
      switch (message._tag) {
        case "KeysInvalidated":
          return this.dropKeys(this.local, message.keys)
        case "TagsInvalidated":
          return this.dropTags(this.local, message.tags)
        case "Cleared":
          return this.dropAll(this.local)
      }
    }
    return Effect.suspend(apply).pipe(
      Effect.catchAllCause((cause) => {
        this.counters.incr("backgroundDefects")
        return Effect.logError("layercake: applying an invalidation message failed", cause)
      })
    )
  }

  stats(): Effect.Effect<Api.Stats> {
    return Effect.map(FiberSet.size(this.fibers), (inFlight) => {
      this.counters.flush()
      return {
        ...this.counters.values,
        inFlight,
        perTier: this.counters.tiers.map((tier) => ({ ...tier }))
      }
    })
  }
}
