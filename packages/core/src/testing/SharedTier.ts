/**
 * An in-memory tier of kind `shared` that stores Schema-encoded bytes and
 * never keeps decoded values, standing in for Redis in tests. Build it once
 * (`Layer.build`, or one `const` layer provided at the root) and hand the same
 * instance to several `Cache` layers to simulate a fleet.
 *
 * Like Redis with the json codec it keeps cached failures (encoded with their
 * error schema) and refuses values that JSON would not give back
 * (`Validate.jsonProblem`): `set` fails with an `Encode` tier error.
 *
 * Tag invalidation works as on Redis: each tag keeps the time it was last
 * invalidated, and an entry created at or before that time reads as a miss.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as CacheTier from "../CacheTier.js"
import * as Validate from "../Validate.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly name?: string | undefined
  readonly maxTtl?: Duration.DurationInput | undefined
}

/**
 * What the store holds, for assertions in tests: raw bytes per key.
 *
 * @since 0.1.0
 * @category models
 */
export interface Store {
  readonly entries: Map<string, { readonly bytes: string; readonly staleUntil: number }>
  readonly tagInvalidatedAt: Map<string, number>
}

interface Envelope {
  readonly v: 2
  readonly k: string
  readonly c: number
  readonly f: number
  readonly s: number
  readonly t: ReadonlyArray<string>
  /** A cached failure, encoded with its error schema. */
  readonly n: boolean
  readonly d: unknown
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options = {},
  store: Store = { entries: new Map(), tagInvalidatedAt: new Map() }
): CacheTier.CacheTier => {
  const name = options.name ?? "shared"
  const maxTtl = options.maxTtl === undefined ? undefined : Duration.toMillis(options.maxTtl)

  const read = <A>(
    key: string,
    schema: Schema.Schema<A, any>,
    errorSchema: Schema.Schema<any, any> | undefined,
    at: number
  ): CacheTier.ReadResult<A> => {
    const stored = store.entries.get(key)
    if (stored === undefined) return undefined
    if (at >= stored.staleUntil) {
      store.entries.delete(key)
      return undefined
    }
    let envelope: Envelope
    try {
      envelope = JSON.parse(stored.bytes)
    } catch {
      return new CacheTier.DecodeFailure({ key, reason: "not JSON" })
    }
    if (envelope?.v !== 2 || envelope.k !== key) return new CacheTier.DecodeFailure({ key, reason: "foreign envelope" })
    if (envelope.t.some((tag) => envelope.c <= (store.tagInvalidatedAt.get(tag) ?? -Infinity))) return undefined
    if (envelope.n && errorSchema === undefined) return undefined
    const readWith: Schema.Schema<any, any> = envelope.n ? errorSchema! : schema
    let decoded: Either.Either<A, ParseResult.ParseError>
    try {
      decoded = Schema.decodeUnknownEither(readWith)(envelope.d)
    } catch (error) {
      return new CacheTier.DecodeFailure({ key, reason: `the schema threw: ${String(error)}` })
    }
    if (Either.isLeft(decoded)) {
      return new CacheTier.DecodeFailure({ key, reason: ParseResult.TreeFormatter.formatErrorSync(decoded.left) })
    }
    return {
      value: decoded.right,
      schema: readWith,
      createdAt: envelope.c,
      freshUntil: envelope.f,
      staleUntil: envelope.s,
      tags: envelope.t,
      negative: envelope.n
    }
  }

  const encodeError = (cause: unknown) =>
    new CacheTier.TierError({ tier: name, operation: "set", reason: "Encode", cause })

  const write = (key: string, entry: CacheTier.Entry<any>, at: number): Effect.Effect<void, CacheTier.TierError> =>
    Effect.suspend(() => {
      const capped = CacheTier.capLifetime(entry, at, maxTtl)
      if (capped.staleUntil <= at) return Effect.sync(() => store.entries.delete(key))
      let encoded: Either.Either<unknown, ParseResult.ParseError>
      try {
        encoded = Schema.encodeEither(entry.schema)(entry.value)
      } catch (error) {
        store.entries.delete(key)
        return Effect.fail(encodeError(`the schema threw: ${String(error)}`))
      }
      if (Either.isLeft(encoded)) {
        store.entries.delete(key)
        return Effect.fail(encodeError(encoded.left))
      }
      const problem = Validate.jsonProblem(encoded.right)
      if (problem !== undefined) {
        store.entries.delete(key)
        return Effect.fail(encodeError(`the value does not survive JSON: ${problem}`))
      }
      const envelope: Envelope = {
        v: 2,
        k: key,
        c: capped.createdAt,
        f: capped.freshUntil,
        s: capped.staleUntil,
        t: capped.tags,
        n: capped.negative,
        d: encoded.right
      }
      store.entries.set(key, { bytes: JSON.stringify(envelope), staleUntil: capped.staleUntil })
      return Effect.void
    })

  return CacheTier.make({
    name,
    kind: "shared",
    maxTtl,
    get: (key, schema, errorSchema) => Effect.map(Clock.currentTimeMillis, (at) => read(key, schema, errorSchema, at)),
    getMany: (keys, schema, errorSchema) =>
      Effect.map(Clock.currentTimeMillis, (at) => keys.map((key) => read(key, schema, errorSchema, at))),
    set: (key, entry) => Effect.flatMap(Clock.currentTimeMillis, (at) => write(key, entry, at)),
    setMany: (entries) =>
      Effect.flatMap(
        Clock.currentTimeMillis,
        (at) => Effect.forEach(entries, ([key, entry]) => write(key, entry, at), { discard: true })
      ),
    delete: (keys) =>
      Effect.sync(() => {
        for (const key of keys) store.entries.delete(key)
      }),
    invalidateTags: (tags, at) =>
      Effect.sync(() => {
        for (const tag of tags) store.tagInvalidatedAt.set(tag, Math.max(at, store.tagInvalidatedAt.get(tag) ?? at))
      }),
    clear: (prefix) =>
      Effect.sync(() => {
        for (const key of store.entries.keys()) if (key.startsWith(prefix)) store.entries.delete(key)
      })
  })
}

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<CacheTier.CacheTier> =>
  Layer.sync(CacheTier.CacheTier, () => make(options))
