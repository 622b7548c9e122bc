import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type { SetOptions } from "../Cache.js"
import type { Entry } from "../CacheTier.js"
import type { TierError } from "./errors.js"
import { publish, retryLater } from "./invalidation.js"
import * as Lifecycle from "./lifecycle.js"
import * as Policy from "./policy.js"
import { forEachMember, logTierError } from "./stack.js"
import type { CacheState } from "./state.js"
import { thrown } from "./tier.js"
import * as Validate from "./validate.js"

/** @internal */
export const stampWrite = (state: CacheState, now: number): number => {
  const createdAt = now > state.lastTagInvalidation ? now : state.lastTagInvalidation + 1
  state.lastTaggedWrite = Math.max(state.lastTaggedWrite, createdAt)
  return createdAt
}

/**
 * The entry of a value written now under `policy`, or `undefined` when
 * nothing is to be stored: a `ttl` function that gives `0`, or one (or a
 * `tags` function) that throws or gives something unusable, which is logged.
 * @internal
 */
export const newEntry = <A>(
  state: CacheState,
  value: A,
  schema: Schema.Schema<A, any>,
  policy: Lifecycle.Policy
): Effect.Effect<Entry<A> | undefined> => {
  const planned = plan(state, value, policy)
  if (planned === undefined || Effect.isEffect(planned)) return planned ?? Effect.succeed(undefined)
  return build(state, value, schema, planned.ttl, planned.tags, false, policy)
}

/**
 * The ttl and tags of a value under `policy`: `undefined` when nothing is to
 * be stored (a `ttl` function that gives `0`), the log of the failure when a
 * `ttl` or `tags` function throws or gives something unusable.
 */
const plan = (
  state: CacheState,
  value: unknown,
  policy: Lifecycle.Policy
): { readonly ttl: number; readonly tags: ReadonlyArray<string> } | Effect.Effect<undefined> | undefined => {
  let ttl: number
  let tags: ReadonlyArray<string>
  try {
    ttl = Policy.ttlFor(policy, value)
    tags = Policy.tagsFor(policy, value, state.prefix)
  } catch (error) {
    return Effect.as(
      Effect.logError(
        `layercake: the ttl or tags function of a "${state.namespace}" entry failed; not storing it`,
        error
      ),
      undefined
    )
  }
  return ttl === 0 ? undefined : { ttl, tags }
}

/** The entry of a cached failure (negative caching). @internal */
export const negativeEntry = (
  state: CacheState,
  error: unknown,
  errorSchema: Schema.Schema<any, any>,
  policy: Lifecycle.Policy
): Effect.Effect<Entry<unknown>> =>
  Effect.map(build(state, error, errorSchema, policy.errorTtl, policy.tags, true, policy), (entry) => ({
    ...entry,
    staleUntil: entry.freshUntil
  }))

const build = <A>(
  state: CacheState,
  value: A,
  schema: Schema.Schema<A, any>,
  ttl: number,
  tags: ReadonlyArray<string>,
  negative: boolean,
  policy: Lifecycle.Policy
): Effect.Effect<Entry<A>> =>
  Effect.clockWith((clock) => {
    const make = (factor: number) =>
      entryAt(state, value, schema, ttl, tags, negative, policy, clock.unsafeCurrentTimeMillis(), factor)
    if (policy.jitter === 0 || negative) return Effect.sync(() => make(1))
    return Effect.map(state.random.next, (random) => make(1 - policy.jitter * random))
  })

/** The entry of `value` written at `now`, its lifetime scaled by the jitter `factor`. */
const entryAt = <A>(
  state: CacheState,
  value: A,
  schema: Schema.Schema<A, any>,
  ttl: number,
  tags: ReadonlyArray<string>,
  negative: boolean,
  policy: Lifecycle.Policy,
  now: number,
  factor: number
): Entry<A> => {
  const lifetime = Lifecycle.lifetime(now, ttl, policy, factor)
  const createdAt = tags.length === 0 ? now : stampWrite(state, now)
  return { value, schema, ...lifetime, createdAt, tags, negative }
}

/** Writes to every tier (a failure: every tier that keeps failures), logging what fails. @internal */
export const write = (state: CacheState, fullKey: string, entry: Entry<any>): Effect.Effect<void> =>
  setEverywhere(state, fullKey, entry, state.tierError)

type Encoder = (value: unknown) => Either.Either<unknown, ParseResult.ParseError>
const encoders = new WeakMap<Schema.Schema<any, any>, Encoder>()

/** The schema's encoder, made once per schema object. */
const encoderOf = (schema: Schema.Schema<any, any>): Encoder => {
  let encoder = encoders.get(schema)
  if (encoder === undefined) {
    encoder = Schema.encodeUnknownEither(schema)
    encoders.set(schema, encoder)
  }
  return encoder
}

/**
 * Writes `entry` to every tier, through the synchronous access of in-process
 * tiers (no Effect step for them), reporting each failure to `onError`.
 */
const setEverywhere = (
  state: CacheState,
  fullKey: string,
  entry: Entry<any>,
  onError: (member: number, error: TierError) => void
): Effect.Effect<void> =>
  Effect.clockWith((clock) =>
    setEverywhereAt(state, fullKey, entry, onError, clock.unsafeCurrentTimeMillis()) ?? Effect.void
  )

/** `setEverywhere` at `now`, run at once: `undefined` when every tier was written synchronously and none failed. */
const setEverywhereAt = (
  state: CacheState,
  fullKey: string,
  entry: Entry<any>,
  onError: (member: number, error: TierError) => void,
  now: number
): Effect.Effect<void> | undefined => {
  let rest: Effect.Effect<void> | undefined = undefined
  state.members.forEach((member, index) => {
    const written = member.sync !== undefined ? member.sync.set(fullKey, entry, now) : member.set(fullKey, entry)
    if (written === undefined) return
    const step = Effect.catchAll(written, (error) => {
      onError(index, error)
      return logTierError(error, member)
    })
    rest = rest === undefined ? step : Effect.zipRight(rest, step)
  })
  return rest
}

/**
 * The schema's encoding of `value`; Schema code that throws is a `ParseError`
 * too, so that `set` fails with a typed error instead of a defect.
 * @internal
 */
export const encodeGuarded = <A>(
  schema: Schema.Schema<A, any>,
  value: A
): Either.Either<unknown, ParseResult.ParseError> => {
  try {
    return encoderOf(schema)(value)
  } catch (error) {
    return Either.left(parseError(schema, value, `the schema threw while encoding: ${thrown(error)}`))
  }
}

const parseError = (schema: Schema.Schema<any, any>, value: unknown, message: string) =>
  new ParseResult.ParseError({ issue: new ParseResult.Type(schema.ast, value, message) })

/**
 * `Cache.set`: encodes (a failure is the caller's `ParseError`), discards
 * computes in flight for the key, writes every tier and tells the bus. A tier
 * that cannot represent the value (its codec) fails the `set` too, with a
 * `ParseError` carrying the tier's reason; the key is then deleted from every
 * tier, so that no tier keeps an older value.
 * @internal
 */
export const set = <A>(
  state: CacheState,
  key: string,
  schema: Schema.Schema<A, any>,
  value: A,
  options: SetOptions<A> | undefined
): Effect.Effect<void, ParseResult.ParseError> =>
  Effect.clockWith((clock) => {
    Validate.checkKey("key", key)
    const policy = state.policy(options)
    const encoded = encodeGuarded(schema, value)
    if (Either.isLeft(encoded)) return Effect.fail(encoded.left)
    const fullKey = state.prefix + key
    const announced = (written: Effect.Effect<void, ParseResult.ParseError>) =>
      Option.isNone(state.bus) ? written : written.pipe(
        Effect.ensuring(
          publish(state, {
            _tag: "KeysInvalidated",
            sender: state.instanceId,
            namespace: state.namespace,
            keys: [key],
            ...(options?.peers === "refresh" ? { refresh: true } : {})
          })
        )
      )
    const planned = plan(state, value, policy)
    // the usual case, a plain ttl without jitter: the entry and the in-process writes in this step
    if (planned !== undefined && !Effect.isEffect(planned) && policy.jitter === 0) {
      const now = clock.unsafeCurrentTimeMillis()
      const entry = entryAt(state, value, schema, planned.ttl, planned.tags, false, policy, now, 1)
      return announced(store(state, fullKey, schema, value, entry, now))
    }
    return announced(Effect.flatMap(
      planned === undefined || Effect.isEffect(planned)
        ? planned ?? Effect.succeed(undefined)
        : build(state, value, schema, planned.ttl, planned.tags, false, policy),
      (entry) =>
        Effect.clockWith((clock) => store(state, fullKey, schema, value, entry, clock.unsafeCurrentTimeMillis()))
    ))
  })

/**
 * Writes `entry` to every tier (deletes the key everywhere when it is
 * `undefined`), after discarding computes of the key in flight. A tier that
 * missed the write may keep the old value: it is deleted there, retrying
 * until it lands. A tier that cannot encode the value fails the `set`.
 */
const store = <A>(
  state: CacheState,
  fullKey: string,
  schema: Schema.Schema<A, any>,
  value: A,
  entry: Entry<A> | undefined,
  now: number
): Effect.Effect<void, ParseResult.ParseError> => {
  const deleted = () => forEachMember(state.members, (member) => member.delete([fullKey]), state.tierError)
  state.inflight.discardKeysNow([fullKey])
  if (entry === undefined) return deleted()
  const encodeErrors: Array<TierError> = []
  const failed: Array<readonly [number, TierError]> = []
  const pending = setEverywhereAt(state, fullKey, entry, (index, error) => {
    state.tierError(index)
    if (error.reason === "Encode") encodeErrors.push(error)
    else failed.push([index, error])
  }, now)
  const afterFailures = Effect.suspend(() => {
    if (failed.length === 0 && encodeErrors.length === 0) return Effect.void
    const retried = Effect.forEach(failed, ([index, error]) =>
      retryLater(
        state,
        state.members[index],
        `the set of "${fullKey}"`,
        [fullKey],
        (member) => member.delete([fullKey]),
        error
      ), { discard: true })
    if (encodeErrors.length === 0) return retried
    const reasons = encodeErrors.map((error) => error.message).join("; ")
    return retried.pipe(
      Effect.zipRight(deleted()),
      Effect.zipRight(Effect.fail(parseError(schema, value, `a tier cannot store this value: ${reasons}`)))
    )
  })
  if (pending !== undefined) return Effect.zipRight(pending, afterFailures)
  return failed.length === 0 && encodeErrors.length === 0 ? Effect.void : afterFailures
}
