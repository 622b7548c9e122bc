import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as LogLevel from "effect/LogLevel"
import type * as Schema from "effect/Schema"
import type { CacheTier as Tier, Entry, ReadResult, Stack } from "../CacheTier.js"
import { DecodeFailure, type TierError } from "./errors.js"
import { make, membersOf, StackTypeId, tag, TypeId } from "./tier.js"

/**
 * Per-member read outcomes, so the `Cache` keeps per-tier stats while the
 * stack owns the read-through.
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

/** A failure of one kind (operation and reason) is logged at warning at most once per window and member. */
const WARNING_WINDOW_MILLIS = 10_000

interface WarningWindow {
  until: number
  suppressed: number
}

const warningWindows = new WeakMap<Tier, Map<string, WarningWindow>>()

/** Whether this failure gets a warning, and how many of its kind were logged at debug since the last one. */
const admitWarning = (member: Tier, error: TierError, now: number): number | undefined => {
  let windows = warningWindows.get(member)
  if (windows === undefined) {
    windows = new Map()
    warningWindows.set(member, windows)
  }
  const kind = `${error.operation} ${error.reason}`
  const window = windows.get(kind)
  if (window !== undefined && now < window.until) {
    window.suppressed++
    return undefined
  }
  windows.set(kind, { until: now + WARNING_WINDOW_MILLIS, suppressed: 0 })
  return window?.suppressed ?? 0
}

/**
 * Logs a skipped tier operation. An open circuit is logged at debug level: it
 * is the expected state while a store is down (the breaker logs its own
 * transitions). Other failures are logged at warning once per kind and 10 s
 * per member, the rest at debug, and the next warning says how many there
 * were: a tier failing every call (a missing ACL permission, an overload)
 * must not flood the logs.
 * @internal
 */
export const logTierError = (
  error: TierError,
  member: Tier,
  message = `layercake: tier ${member.name} ${error.operation} failed, skipping it`,
  annotations: Record<string, unknown> = {}
) =>
  Effect.clockWith((clock) => {
    const suppressed = error.reason === "CircuitOpen"
      ? undefined
      : admitWarning(member, error, clock.unsafeCurrentTimeMillis())
    return Effect.logWithLevel(
      suppressed === undefined ? LogLevel.Debug : LogLevel.Warning,
      suppressed ? `${message} (${suppressed} more like it in the last 10 s, logged at debug)` : message
    ).pipe(
      Effect.annotateLogs({ ...annotations, tier: member.name, operation: error.operation, reason: error.reason }),
      Effect.annotateLogs("cause", String(error.cause ?? ""))
    )
  })

/**
 * What a read-through gives: the entry or `undefined` when every member it
 * visited answered synchronously, otherwise an effect for the rest.
 * @internal
 */
export type Read<A> = Entry<A> | undefined | Effect.Effect<Entry<A> | undefined>

/**
 * The one read-through of layercake: reads the members top-down from `start`,
 * skipping failing ones, and promotes a hit into the members above it with its
 * absolute times (each member caps them with its own `maxTtl`, so a copy never
 * outlives the original). Members with `sync` access are read and promoted
 * into without an Effect step.
 * @internal
 */
export const read = <A>(
  members: ReadonlyArray<Tier>,
  start: number,
  key: string,
  schema: Schema.Schema<A, any>,
  errorSchema: Schema.Schema<any, any> | undefined,
  now: number,
  observer: ReadObserver = silentObserver
): Read<A> => {
  for (let index = start; index < members.length; index++) {
    const member = members[index]
    const sync = member.sync
    if (sync === undefined) {
      return Effect.matchEffect(member.get(key, schema, errorSchema), {
        onFailure: (error) => {
          observer.error(index, error)
          return Effect.zipRight(
            logTierError(error, member),
            readOn(members, index + 1, key, schema, errorSchema, now, observer)
          )
        },
        onSuccess: (result) => {
          const hit = found(members, index, key, result, now, observer)
          return hit === undefined
            ? readOn(members, index + 1, key, schema, errorSchema, now, observer)
            : Effect.isEffect(hit)
            ? hit
            : Effect.succeed(hit)
        }
      })
    }
    const hit = found(members, index, key, sync.get(key, schema, errorSchema, now), now, observer)
    if (hit !== undefined) return hit
  }
  return undefined
}

/**
 * `read` when the caller has already read member 0 synchronously (the L1 hit
 * check) and got `first`: goes on from there without reading it again.
 * @internal
 */
export const readAfterFirst = <A>(
  members: ReadonlyArray<Tier>,
  first: ReadResult<A>,
  key: string,
  schema: Schema.Schema<A, any>,
  errorSchema: Schema.Schema<any, any> | undefined,
  now: number,
  observer: ReadObserver
): Read<A> => found(members, 0, key, first, now, observer) ?? read(members, 1, key, schema, errorSchema, now, observer)

const readOn = <A>(
  members: ReadonlyArray<Tier>,
  start: number,
  key: string,
  schema: Schema.Schema<A, any>,
  errorSchema: Schema.Schema<any, any> | undefined,
  now: number,
  observer: ReadObserver
): Effect.Effect<Entry<A> | undefined> => {
  const rest = read(members, start, key, schema, errorSchema, now, observer)
  return Effect.isEffect(rest) ? rest : Effect.succeed(rest)
}

/**
 * The read-through of a batch: one `getMany` per member for the keys still
 * missing (one `MGET` per slot on Redis), promoting hits into the members
 * above as `read` does. Results in the keys' order.
 * @internal
 */
export const readMany = <A>(
  members: ReadonlyArray<Tier>,
  keys: ReadonlyArray<string>,
  schema: Schema.Schema<A, any>,
  errorSchema: Schema.Schema<any, any> | undefined,
  now: number,
  observer: ReadObserver = silentObserver
): Effect.Effect<Array<Entry<A> | undefined>> => {
  const results: Array<Entry<A> | undefined> = new Array(keys.length).fill(undefined)
  const promotions: Array<Effect.Effect<Entry<A>>> = []
  const settle = (index: number, positions: ReadonlyArray<number>, read: ReadonlyArray<ReadResult<A>>) => {
    const missing: Array<number> = []
    positions.forEach((position, i) => {
      const hit = found(members, index, keys[position], read[i], now, observer)
      if (hit === undefined) missing.push(position)
      else if (Effect.isEffect(hit)) promotions.push(Effect.tap(hit, (entry) => (results[position] = entry)))
      else results[position] = hit
    })
    return missing
  }
  const from = (index: number, positions: ReadonlyArray<number>): Effect.Effect<void> => {
    if (index === members.length || positions.length === 0) return Effect.void
    const member = members[index]
    const sync = member.sync
    if (sync !== undefined) {
      const read = positions.map((position) => sync.get(keys[position], schema, errorSchema, now))
      return from(index + 1, settle(index, positions, read))
    }
    return Effect.matchEffect(member.getMany(positions.map((position) => keys[position]), schema, errorSchema), {
      onFailure: (error) => {
        observer.error(index, error)
        return Effect.zipRight(logTierError(error, member), from(index + 1, positions))
      },
      onSuccess: (read) => from(index + 1, settle(index, positions, read))
    })
  }
  return from(0, keys.map((_, position) => position)).pipe(
    Effect.zipRight(Effect.all(promotions, { concurrency: "unbounded", discard: true })),
    Effect.as(results)
  )
}

/** The entry (promoted) when `result` is a hit; `undefined` to read on. */
const found = <A>(
  members: ReadonlyArray<Tier>,
  index: number,
  key: string,
  result: ReadResult<A>,
  now: number,
  observer: ReadObserver
): Entry<A> | Effect.Effect<Entry<A>> | undefined => {
  if (result === undefined) {
    observer.miss(index)
    return undefined
  }
  if (result instanceof DecodeFailure) {
    observer.decodeFailure(index, result)
    return undefined
  }
  observer.hit(index)
  return index === 0 ? result : promote(members, index, key, result, now, observer)
}

const promote = <A>(
  members: ReadonlyArray<Tier>,
  foundAt: number,
  key: string,
  entry: Entry<A>,
  now: number,
  observer: ReadObserver
): Entry<A> | Effect.Effect<Entry<A>> => {
  let then: Effect.Effect<void> | undefined = undefined
  for (let index = 0; index < foundAt; index++) {
    const member = members[index]
    const written = member.placement !== undefined
      ? member.placement.promote(key, entry, now)
      : member.sync !== undefined
      ? member.sync.set(key, entry, now)
      : member.set(key, entry)
    if (written === undefined) continue
    const step = Effect.catchAll(written, (error) => {
      observer.error(index, error)
      return logTierError(error, member)
    })
    then = then === undefined ? step : Effect.zipRight(then, step)
  }
  return then === undefined ? entry : Effect.as(then, entry)
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
        return logTierError(error, member)
      }),
    { discard: true }
  )

/** Members with a clashing name get `name#2`, `name#3`, ... in stack order. */
const distinctNames = (members: ReadonlyArray<Tier>): ReadonlyArray<Tier> => {
  const taken = new Set<string>()
  return members.map((member) => {
    let name = member.name
    for (let n = 2; taken.has(name); n++) name = `${member.name}#${n}`
    taken.add(name)
    return name === member.name ? member : make({ ...member, name })
  })
}

const makeStack = (members: ReadonlyArray<Tier>): Stack => {
  const get = <A>(key: string, schema: Schema.Schema<A, any>, errorSchema?: Schema.Schema<any, any>) =>
    Effect.clockWith((clock) =>
      readOn(members, 0, key, schema, errorSchema, clock.unsafeCurrentTimeMillis(), silentObserver)
    )
  return {
    [TypeId]: TypeId,
    [StackTypeId]: StackTypeId,
    name: members.map((member) => member.name).join("+"),
    kind: members.some((member) => member.kind === "shared") ? "shared" : "local",
    maxTtl: undefined,
    members,
    get,
    getMany: (keys, schema, errorSchema) => Effect.forEach(keys, (key) => get(key, schema, errorSchema)),
    set: (key, entry) => forEachMember(members, (member) => member.set(key, entry)),
    setMany: (entries) => forEachMember(members, (member) => member.setMany(entries)),
    delete: (keys) => forEachMember(members, (member) => member.delete(keys)),
    invalidateTags: (tags, at) => forEachMember(members, (member) => member.invalidateTags(tags, at)),
    clear: (prefix) => forEachMember(members, (member) => member.clear(prefix))
  }
}

/** @internal */
export const stack = (...layers: ReadonlyArray<Layer.Layer<Tier, any, any>>): Layer.Layer<Tier, any, any> => {
  if (layers.length === 1) return layers[0]
  const collect = (index: number, acc: ReadonlyArray<Tier>): Layer.Layer<Tier, any, any> =>
    index === layers.length
      ? Layer.sync(tag, () => makeStack(distinctNames(acc)))
      : Layer.flatMap(layers[index], (context) => collect(index + 1, [...acc, ...membersOf(Context.get(context, tag))]))
  return collect(0, [])
}
