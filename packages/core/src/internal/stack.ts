import type * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as LogLevel from "effect/LogLevel"
import type * as Schema from "effect/Schema"
import type { CacheTier as Tier, Entry, ReadResult, TierError } from "../CacheTier.js"
import { CacheTier, DecodeFailure, TypeId } from "../CacheTier.js"

/**
 * Per-member read outcome reporting, so the `Cache` can keep per-tier stats
 * while the stack owns the read-through logic.
 * @internal
 */
export interface ReadObserver {
  readonly hit: (member: number) => void
  readonly miss: (member: number) => void
  readonly decodeFailure: (member: number, failure: DecodeFailure) => void
  readonly error: (member: number, error: TierError) => void
}

const silentObserver: ReadObserver = {
  hit: () => {},
  miss: () => {},
  decodeFailure: () => {},
  error: () => {}
}

/**
 * Logs a skipped tier operation. An open circuit is logged at debug level: it
 * is the expected state while a store is down, and would flood the logs at
 * warning level (the breaker logs its own transitions).
 * @internal
 */
export const logTierError = (error: TierError) =>
  Effect.logWithLevel(
    error.reason === "CircuitOpen" ? LogLevel.Debug : LogLevel.Warning,
    `layercake: tier ${error.tier} ${error.operation} failed, skipping it`
  ).pipe(
    Effect.annotateLogs({ tier: error.tier, operation: error.operation, reason: error.reason }),
    Effect.annotateLogs("cause", String(error.cause ?? ""))
  )

/**
 * Reads top-down, skipping failing members, and promotes a hit into the
 * members above it. Promotion keeps the entry's absolute times; each member
 * caps them with its own `maxTtl`, so a copy never outlives the original.
 * @internal
 */
export const readThrough = <A>(
  members: ReadonlyArray<Tier>,
  key: string,
  schema: Schema.Schema<A, any>,
  observer: ReadObserver = silentObserver
): Effect.Effect<Entry<A> | undefined> =>
  Effect.clockWith((clock) => readFrom(clock, members, 0, key, schema, observer))

/**
 * `readThrough` with the clock the caller already holds. Members with
 * `unsafeGet` / `unsafeSet` (in-process tiers) are read and promoted into
 * without an Effect step: an L1 miss that hits L2 costs one Effect step for
 * the L2 read and nothing per local tier.
 * @internal
 */
export const readFrom = <A>(
  clock: Clock.Clock,
  members: ReadonlyArray<Tier>,
  start: number,
  key: string,
  schema: Schema.Schema<A, any>,
  observer: ReadObserver
): Effect.Effect<Entry<A> | undefined> => {
  for (let index = start; index < members.length; index++) {
    const member = members[index]
    if (member.unsafeGet === undefined) {
      return Effect.matchEffect(member.get(key, schema), {
        onFailure: (error) => {
          observer.error(index, error)
          return Effect.zipRight(logTierError(error), readFrom(clock, members, index + 1, key, schema, observer))
        },
        onSuccess: (result) =>
          found(clock, members, index, key, result, observer) ??
            readFrom(clock, members, index + 1, key, schema, observer)
      })
    }
    const hit = found(
      clock,
      members,
      index,
      key,
      member.unsafeGet(key, schema, clock.unsafeCurrentTimeMillis()),
      observer
    )
    if (hit !== undefined) return hit
  }
  return succeedUndefined
}

const succeedUndefined = Effect.succeed(undefined)

/** The entry (promoted) when `result` is a hit; `undefined` to read on. */
const found = <A>(
  clock: Clock.Clock,
  members: ReadonlyArray<Tier>,
  index: number,
  key: string,
  result: ReadResult<A>,
  observer: ReadObserver
): Effect.Effect<Entry<A>> | undefined => {
  if (result === undefined) {
    observer.miss(index)
    return undefined
  }
  if (result instanceof DecodeFailure) {
    observer.decodeFailure(index, result)
    return undefined
  }
  observer.hit(index)
  return index === 0 ? Effect.succeed(result) : promote(clock, members, index, key, result, observer)
}

const promote = <A>(
  clock: Clock.Clock,
  members: ReadonlyArray<Tier>,
  foundAt: number,
  key: string,
  entry: Entry<A>,
  observer: ReadObserver
): Effect.Effect<Entry<A>> => {
  let then: Effect.Effect<void> | undefined = undefined
  for (let index = 0; index < foundAt; index++) {
    const member = members[index]
    if (entry.negative && member.kind === "shared") continue
    const step = member.unsafeSet !== undefined
      ? member.unsafeSet(key, entry, clock.unsafeCurrentTimeMillis())
      : Effect.catchAll(member.set(key, entry), (error) => {
        observer.error(index, error)
        return logTierError(error)
      })
    if (step !== undefined) then = then === undefined ? step : Effect.zipRight(then, step)
  }
  return then === undefined ? Effect.succeed(entry) : Effect.as(then, entry)
}

/**
 * Runs `f` on every member, logging and reporting failures instead of failing.
 * @internal
 */
export const forEachMember = (
  members: ReadonlyArray<Tier>,
  f: (member: Tier) => Effect.Effect<void, TierError>,
  onError: (member: number, error: TierError) => void = () => {}
): Effect.Effect<void> =>
  Effect.forEach(
    members,
    (member, index) =>
      Effect.catchAll(f(member), (error) => {
        onError(index, error)
        return logTierError(error)
      }),
    { discard: true }
  )

const makeStack = (members: ReadonlyArray<Tier>): Tier => {
  const getMany = <A>(keys: ReadonlyArray<string>, schema: Schema.Schema<A, any>) =>
    Effect.forEach(keys, (key) => readThrough(members, key, schema))
  const stacked: Tier = {
    [TypeId]: TypeId,
    name: members.map((member) => member.name).join("+"),
    kind: members.some((member) => member.kind === "shared") ? "shared" : "local",
    maxTtl: undefined,
    members,
    get: (key, schema) => readThrough(members, key, schema),
    getMany,
    set: (key, entry) => forEachMember(members, (member) => member.set(key, entry)),
    setMany: (entries) => forEachMember(members, (member) => member.setMany(entries)),
    delete: (keys) => forEachMember(members, (member) => member.delete(keys)),
    invalidateTags: (tags, at) => forEachMember(members, (member) => member.invalidateTags(tags, at)),
    clear: (prefix) => forEachMember(members, (member) => member.clear(prefix))
  }
  return stacked
}

const checkNames = (members: ReadonlyArray<Tier>): Effect.Effect<void> => {
  const names = members.map((member) => member.name)
  const duplicate = names.find((name, index) => names.indexOf(name) !== index)
  return duplicate === undefined
    ? Effect.void
    : Effect.dieMessage(`layercake: CacheTier.stack has two tiers named "${duplicate}"; give each tier a distinct name`)
}

/** @internal */
export const stack = (...layers: ReadonlyArray<Layer.Layer<Tier, any, any>>): Layer.Layer<Tier, any, any> => {
  if (layers.length === 1) return layers[0]
  const collect = (index: number, acc: ReadonlyArray<Tier>): Layer.Layer<Tier, any, any> =>
    index === layers.length
      ? Layer.effect(CacheTier, Effect.as(checkNames(acc), makeStack(acc)))
      : Layer.flatMap(layers[index], (context) =>
        collect(index + 1, [...acc, ...Context.get(context, CacheTier).members]))
  return collect(0, [])
}
