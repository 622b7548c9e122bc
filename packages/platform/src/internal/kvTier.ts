/**
 * The KeyValueStore tier: one JSON envelope string per key, invalidation
 * times kept as keys (`~tag:<tag>`, `~clear:<prefix>`) and checked on read.
 *
 * @internal
 */
import * as KeyValueStore from "@effect/platform/KeyValueStore"
import { CacheTier, Validate } from "@layercake/core"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"

/** @internal */
export interface Options {
  readonly name?: string | undefined
  readonly maxTtl?: Duration.DurationInput | undefined
  readonly kind?: "local" | "shared" | undefined
  /** How many keys `getMany` / `setMany` / `delete` work on at once; for stores whose calls can overlap. Default 1. */
  readonly concurrency?: number | undefined
}

interface Envelope {
  readonly v: 1
  readonly key: string
  readonly createdAt: number
  readonly freshUntil: number
  readonly staleUntil: number
  readonly tags: ReadonlyArray<string>
  readonly negative: boolean
  readonly value: unknown
}

const ENTRY = "~entry:"
const TAG = "~tag:"
const CLEAR = "~clear:"

const isWellFormed = (text: string): boolean => {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = text.charCodeAt(i + 1)
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false
      i++
    } else if (code >= 0xdc00 && code <= 0xdfff) {
      return false
    }
  }
  return true
}

const parseEnvelope = (text: string): Envelope | string => {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return "not JSON"
  }
  if (typeof parsed !== "object" || parsed === null) return "not an envelope"
  const e = parsed as Record<string, unknown>
  if (e.v !== 1) return `unknown envelope version ${String(e.v)}`
  if (
    typeof e.key !== "string" || typeof e.createdAt !== "number" || typeof e.freshUntil !== "number" ||
    typeof e.staleUntil !== "number" || !Array.isArray(e.tags) || typeof e.negative !== "boolean"
  ) return "malformed envelope"
  return e as unknown as Envelope
}

/** @internal */
export const make = (
  options: Options = {}
): Effect.Effect<CacheTier.CacheTier, never, KeyValueStore.KeyValueStore> =>
  Effect.gen(function*() {
    const store = yield* KeyValueStore.KeyValueStore
    const name = options.name ?? "keyvaluestore"
    const concurrency = options.concurrency ?? 1
    const maxTtl = options.maxTtl === undefined ? undefined : Duration.toMillis(options.maxTtl)
    const fail =
      (operation: "get" | "set" | "delete" | "invalidateTags" | "clear", reason: "Unavailable" | "Encode") =>
      (cause: unknown) => new CacheTier.TierError({ tier: name, operation, reason, cause })

    const timeOf = (key: string) =>
      Effect.map(store.get(key), Option.match({ onNone: () => -Infinity, onSome: Number }))

    const invalidatedAt = (key: string, tags: ReadonlyArray<string>) =>
      Effect.gen(function*() {
        let latest = -Infinity
        for (let i = 0; i <= key.length; i++) {
          // only prefixes that were cleared have a record; a read per prefix keeps the store contract small
          latest = Math.max(latest, yield* timeOf(CLEAR + key.slice(0, i)))
        }
        for (const tag of tags) latest = Math.max(latest, yield* timeOf(TAG + tag))
        return latest
      })

    const get = <A>(
      key: string,
      schema: Schema.Schema<A, any>,
      errorSchema?: Schema.Schema<any, any>
    ): Effect.Effect<CacheTier.ReadResult<A>, CacheTier.TierError> =>
      Effect.gen(function*() {
        if (!isWellFormed(key)) {
          return new CacheTier.DecodeFailure({ key, reason: "key is not well-formed Unicode" })
        }
        const raw = yield* store.get(ENTRY + key)
        if (Option.isNone(raw)) return undefined
        const envelope = parseEnvelope(raw.value)
        if (typeof envelope === "string") return new CacheTier.DecodeFailure({ key, reason: envelope })
        if (envelope.key !== key) return new CacheTier.DecodeFailure({ key, reason: "envelope of another key" })
        const now = yield* Clock.currentTimeMillis
        if (now >= envelope.staleUntil || envelope.createdAt <= (yield* invalidatedAt(key, envelope.tags))) {
          yield* store.remove(ENTRY + key)
          return undefined
        }
        if (envelope.negative && errorSchema === undefined) return undefined
        const readSchema = envelope.negative ? errorSchema! : schema
        let decoded: Either.Either<unknown, unknown>
        try {
          decoded = Schema.decodeUnknownEither(readSchema as Schema.Schema<unknown, unknown>)(envelope.value)
        } catch (cause) {
          decoded = Either.left(cause)
        }
        if (Either.isLeft(decoded)) {
          return new CacheTier.DecodeFailure({ key, reason: `does not decode: ${String(decoded.left)}` })
        }
        return {
          value: decoded.right as A,
          schema: readSchema as Schema.Schema<A, any>,
          createdAt: envelope.createdAt,
          freshUntil: envelope.freshUntil,
          staleUntil: envelope.staleUntil,
          tags: envelope.tags,
          negative: envelope.negative
        }
      }).pipe(Effect.mapError(fail("get", "Unavailable")))

    const set = (key: string, input: CacheTier.Entry<any>): Effect.Effect<void, CacheTier.TierError> =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const entry = CacheTier.capLifetime(input, now, maxTtl)
        if (!isWellFormed(key) || !entry.tags.every(isWellFormed)) {
          return yield* Effect.fail(fail("set", "Encode")("key or tag is not well-formed Unicode"))
        }
        let encoded: Either.Either<unknown, unknown>
        try {
          encoded = Schema.encodeUnknownEither(entry.schema as Schema.Schema<unknown, unknown>)(entry.value)
        } catch (cause) {
          encoded = Either.left(cause)
        }
        if (Either.isLeft(encoded)) {
          yield* store.remove(ENTRY + key).pipe(Effect.ignore)
          return yield* Effect.fail(fail("set", "Encode")(encoded.left))
        }
        // JSON would store something else (NaN as null, a Date as a string): refuse it, never store it changed
        const problem = Validate.jsonProblem(encoded.right)
        if (problem !== undefined) {
          yield* store.remove(ENTRY + key).pipe(Effect.ignore)
          return yield* Effect.fail(fail("set", "Encode")(`the value does not survive JSON: ${problem}`))
        }
        if (now >= entry.staleUntil) {
          yield* store.remove(ENTRY + key).pipe(Effect.mapError(fail("set", "Unavailable")))
          return
        }
        const envelope: Envelope = {
          v: 1,
          key,
          createdAt: entry.createdAt,
          freshUntil: entry.freshUntil,
          staleUntil: entry.staleUntil,
          tags: entry.tags,
          negative: entry.negative,
          value: encoded.right
        }
        let text: string
        try {
          text = JSON.stringify(envelope)
        } catch (cause) {
          yield* store.remove(ENTRY + key).pipe(Effect.ignore)
          return yield* Effect.fail(fail("set", "Encode")(cause))
        }
        yield* store.set(ENTRY + key, text).pipe(Effect.mapError(fail("set", "Unavailable")))
      })

    return CacheTier.make({
      name,
      kind: options.kind ?? "shared",
      maxTtl,
      get,
      getMany: (keys, schema, errorSchema) =>
        Effect.forEach(keys, (key) => get(key, schema, errorSchema), { concurrency }),
      set,
      setMany: (entries) => Effect.forEach(entries, ([key, entry]) => set(key, entry), { concurrency, discard: true }),
      delete: (keys) =>
        Effect.forEach(keys, (key) => store.remove(ENTRY + key), { concurrency, discard: true }).pipe(
          Effect.mapError(fail("delete", "Unavailable"))
        ),
      invalidateTags: (tags, at) =>
        Effect.forEach(
          tags,
          (tag) =>
            Effect.flatMap(timeOf(TAG + tag), (previous) => store.set(TAG + tag, String(Math.max(previous, at)))),
          { discard: true }
        ).pipe(Effect.mapError(fail("invalidateTags", "Unavailable"))),
      clear: (prefix) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) => store.set(CLEAR + prefix, String(now))).pipe(
          Effect.mapError(fail("clear", "Unavailable"))
        )
    })
  })

/** @internal */
export const KeyValueStoreTag = KeyValueStore.KeyValueStore
