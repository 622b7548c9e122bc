import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Schema from "effect/Schema"
import type { Computed, EntryOptions } from "../Cache.js"
import type { CacheTier as Tier, Entry } from "../CacheTier.js"
import type { ComputeTimeoutError } from "./errors.js"
import * as Flights from "./flights.js"
import * as Lifecycle from "./lifecycle.js"
import * as ReadPath from "./readPath.js"
import * as Stack from "./stack.js"
import type { CacheState } from "./state.js"
import { span } from "./tracing.js"
import * as Validate from "./validate.js"

/** A key the batched compute gave no value for: not stored, `None` to the caller. */
class Absent {
  readonly _tag = "Absent"
}

const absent = new Absent()

/**
 * Reads a batch through the tiers, one `getMany` per tier: keys whose
 * invalidation has not landed in a shared tier from the local tiers only;
 * copies promoted while a local drop happened are removed again (as
 * `LocalCopies.guardPromotion` does for one key).
 */
const readBatch = <A>(
  state: CacheState,
  fullKeys: ReadonlyArray<string>,
  schema: Schema.Schema<A, any>,
  now: number
): Effect.Effect<Array<Entry<A> | undefined>> =>
  Effect.suspend(() => {
    if (state.bus._tag === "Some") { for (const fullKey of fullKeys) state.rememberSchema(fullKey, schema) }
    const results: Array<Entry<A> | undefined> = new Array(fullKeys.length).fill(undefined)
    const suspect: Array<number> = []
    const plain: Array<number> = []
    fullKeys.forEach((fullKey, position) => (state.isSuspect(fullKey) ? suspect : plain).push(position))
    const readFrom = (members: ReadonlyArray<Tier>, positions: ReadonlyArray<number>) =>
      positions.length === 0 ? Effect.void : Effect.map(
        Stack.readMany(
          members,
          positions.map((position) => fullKeys[position]),
          schema,
          undefined,
          now,
          state.observer
        ),
        (found) => found.forEach((entry, i) => (results[positions[i]] = entry))
      )
    const epoch = state.epoch
    return readFrom(state.members, plain).pipe(
      Effect.zipRight(readFrom(state.local, suspect)),
      Effect.flatMap(() => {
        if (state.local.length === 0 || state.epoch === epoch) return Effect.succeed(results)
        const promoted = fullKeys.filter((_, position) => results[position] !== undefined)
        return Effect.as(
          Effect.ignore(Effect.forEach(state.local, (member) => member.delete(promoted), { discard: true })),
          results
        )
      })
    )
  })

const checkKeys = (keys: ReadonlyArray<string>) => {
  for (const key of keys) Validate.checkKey("key", key)
}

/** `Cache.getMany`. @internal */
export const getMany = <A>(
  state: CacheState,
  keys: ReadonlyArray<string>,
  schema: Schema.Schema<A, any>
): Effect.Effect<ReadonlyArray<Option.Option<A>>> =>
  Effect.clockWith((clock) => {
    checkKeys(keys)
    const fullKeys = keys.map((key) => state.prefix + key)
    return Effect.map(readBatch(state, fullKeys, schema, clock.unsafeCurrentTimeMillis()), (found) => {
      const now = clock.unsafeCurrentTimeMillis()
      return found.map((entry) => ReadPath.answerOfGet(state, entry, now))
    })
  }).pipe(span("layercake.getMany", { "cache.namespace": state.namespace, "cache.batch_size": keys.length }))

/** `Cache.getOrComputeMany`. @internal */
export const getOrComputeMany = <A, E, R>(
  state: CacheState,
  keys: ReadonlyArray<string>,
  schema: Schema.Schema<A, any>,
  computeMissing: (keys: ReadonlyArray<string>) => Effect.Effect<Computed<A>, E, R>,
  options: EntryOptions | ((key: string) => EntryOptions | undefined) | undefined
): Effect.Effect<ReadonlyArray<Option.Option<A>>, E | ComputeTimeoutError, R> =>
  Effect.clockWith((clock) => {
    checkKeys(keys)
    const unique = [...new Set(keys)]
    const fullKeys = unique.map((key) => state.prefix + key)
    const policies = unique.map((key) => state.policy(typeof options === "function" ? options(key) : options))
    const toMap = (computed: Computed<A>): ReadonlyMap<string, A> =>
      computed instanceof Map ? computed as ReadonlyMap<string, A> : new Map(computed)
    const pick = (computed: ReadonlyMap<string, A>, key: string): Effect.Effect<A, Absent> =>
      computed.has(key) ? Effect.succeed(computed.get(key)!) : Effect.fail(absent)
    const alone = (key: string) => Effect.flatMap(computeMissing([key]), (computed) => pick(toMap(computed), key))
    return Effect.flatMap(readBatch(state, fullKeys, schema, clock.unsafeCurrentTimeMillis()), (found) => {
      const now = clock.unsafeCurrentTimeMillis()
      const states = found.map((entry, position) =>
        Lifecycle.classify(
          entry,
          now,
          policies[position],
          entry === undefined ? Infinity : Lifecycle.refreshAt(fullKeys[position], entry.createdAt, policies[position])
        )
      )
      // the keys this batch computes: those that need a value and whose key is not computing already
      const batched = new Set(
        unique.filter((_, position) =>
          (states[position] === "Missing" || states[position] === "NegativeFresh" ||
            (states[position] === "StaleIfError" && now >= (state.retryAfter.get(fullKeys[position]) ?? 0))) &&
          !state.inflight.has(fullKeys[position])
        )
      )
      const values: Array<Option.Option<A>> = new Array(unique.length)
      /** Keys that wait for a compute, and background refreshes; fresh hits need no fiber. */
      const work: Array<(shared: Effect.Effect<ReadonlyMap<string, A>, E, R>) => Effect.Effect<void, unknown, any>> = []
      const computeOf = (shared: Effect.Effect<ReadonlyMap<string, A>, E, R>, key: string) =>
        batched.has(key) ? Effect.flatMap(shared, (computed) => pick(computed, key)) : alone(key)
      const wait =
        (position: number, stale: Entry<A> | undefined) => (shared: Effect.Effect<ReadonlyMap<string, A>, E, R>) => {
          const request = Flights.call(
            fullKeys[position],
            schema,
            computeOf(shared, unique[position]),
            policies[position]
          )
          return Effect.matchEffect(Flights.computeAndWait(state, request, now, stale), {
            onFailure: (error) =>
              error === absent ? Effect.sync(() => (values[position] = Option.none())) : Effect.fail(error),
            onSuccess: (value) => Effect.sync(() => (values[position] = Option.some(value)))
          })
        }
      found.forEach((entry, position) => {
        switch (states[position]) {
          case "Fresh":
            state.counters.incr("hits")
            values[position] = Option.some(entry!.value)
            return
          case "RefreshDue":
          case "StaleWhileRevalidate": {
            state.counters.incr(states[position] === "RefreshDue" ? "hits" : "staleHits")
            values[position] = Option.some(entry!.value)
            const refresh = Flights.call(fullKeys[position], schema, alone(unique[position]), policies[position])
            work.push(() => Flights.refreshInBackground(state, refresh, now))
            return
          }
          case "StaleIfError":
            if (now < (state.retryAfter.get(fullKeys[position]) ?? 0)) {
              state.counters.incr("staleHits")
              state.counters.incr("staleIfErrorServed")
              values[position] = Option.some(entry!.value)
              return
            }
            work.push(wait(position, entry))
            return
          default:
            state.counters.incr("misses")
            work.push(wait(position, undefined))
        }
      })
      if (work.length === 0) return Effect.succeed(values)
      return Effect.flatMap(
        batched.size === 0
          ? Effect.succeed(Effect.die("layercake: no key of this batch is computed by it"))
          : Effect.cached(Effect.map(computeMissing([...batched]), toMap)),
        (shared) =>
          Effect.as(Effect.all(work.map((run) => run(shared)), { concurrency: "unbounded", discard: true }), values)
      )
    }).pipe(
      Effect.map((values) => {
        if (unique.length === keys.length) return values
        const byKey = new Map(unique.map((key, position) => [key, values[position]]))
        return keys.map((key) => byKey.get(key)!)
      })
    ) as Effect.Effect<ReadonlyArray<Option.Option<A>>, E | ComputeTimeoutError, R>
  }).pipe(span("layercake.getOrComputeMany", { "cache.namespace": state.namespace, "cache.batch_size": keys.length }))
