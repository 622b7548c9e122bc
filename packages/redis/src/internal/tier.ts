import { CacheTier } from "@layercake/core"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type { Cluster, Redis } from "ioredis"
import { RedisConnection } from "../RedisConnection.js"
import type * as Api from "../RedisTier.js"
import { makeCalls, type Start } from "./call.js"
import * as Commands from "./commands.js"
import * as Envelope from "./envelope.js"
import { ReadBatch } from "./readBatch.js"

/** @internal */
export const CacheTierTag = CacheTier.CacheTier

interface Settings {
  readonly name: string
  readonly keyPrefix: string
  readonly operationTimeout: number
  readonly breaker: { readonly failureThreshold: number; readonly openForMillis: number } | undefined
  readonly codec: Envelope.Codec
  readonly maxTtl: number | undefined
  readonly tagTtl: number
}

const millis = (
  name: string,
  input: Duration.DurationInput | undefined,
  fallback: number | undefined
): number | undefined => {
  if (input === undefined) return fallback
  const decoded = Duration.decodeUnknown(input)
  if (decoded._tag === "None") throw new Error(`RedisTier: option "${name}" is not a Duration: ${String(input)}`)
  const value = Duration.toMillis(decoded.value)
  if (!(value > 0) || !Number.isFinite(value)) {
    throw new Error(`RedisTier: option "${name}" must be finite and more than zero`)
  }
  return value
}

const settingsOf = (options: Api.Options): Settings => {
  const keyPrefix = options.keyPrefix ?? "layercake"
  const codec = options.codec ?? "json"
  if (codec !== "json" && codec !== "msgpack") throw new Error(`RedisTier: unknown codec "${String(codec)}"`)
  const breaker = options.circuitBreaker === false ? undefined : {
    failureThreshold: options.circuitBreaker?.failureThreshold ?? 5,
    openForMillis: millis("circuitBreaker.openFor", options.circuitBreaker?.openFor, 5_000)!
  }
  if (breaker !== undefined && !(Number.isInteger(breaker.failureThreshold) && breaker.failureThreshold >= 1)) {
    throw new Error(`RedisTier: option "circuitBreaker.failureThreshold" must be a whole number of at least 1`)
  }
  return {
    name: options.name ?? "redis",
    keyPrefix: keyPrefix === "" || keyPrefix.endsWith(":") ? keyPrefix : `${keyPrefix}:`,
    operationTimeout: millis("operationTimeout", options.operationTimeout, 250)!,
    breaker,
    codec,
    maxTtl: millis("maxTtl", options.maxTtl, undefined),
    tagTtl: millis("tagTtl", options.tagTtl, 86_400_000)!
  }
}

/** Escapes glob characters for SCAN MATCH. */
const escapeGlob = (text: string) => text.replace(/[*?[\]\\]/g, "\\$&")

/** Reads that start in one tick go to Redis together, at most this many keys per command. */
const MAX_BATCH_KEYS = 128

type Decoder = (input: unknown) => Either.Either<any, ParseResult.ParseError>
const decoders = new WeakMap<Schema.Schema<any, any>, Decoder>()

/** The schema's decoder, made once per schema. */
const decoderOf = (schema: Schema.Schema<any, any>): Decoder => {
  let decoder = decoders.get(schema)
  if (decoder === undefined) {
    decoder = Schema.decodeUnknownEither(schema)
    decoders.set(schema, decoder)
  }
  return decoder
}

const failureReason = (error: ParseResult.ParseError) => ParseResult.TreeFormatter.formatErrorSync(error)

/** @internal */
export const make = (options: Api.Options = {}): Effect.Effect<CacheTier.CacheTier, never, RedisConnection> =>
  Effect.gen(function*() {
    const settings = yield* Effect.try(() => settingsOf(options)).pipe(Effect.orDie)
    const connection = yield* RedisConnection
    return makeTier(settings, connection)
  })

const makeTier = (settings: Settings, connection: RedisConnection): CacheTier.CacheTier => {
  const { codec, keyPrefix, maxTtl, name, operationTimeout, tagTtl } = settings
  const tagPrefix = `${keyPrefix}~tag:`
  const commands = connection.isCluster
    ? Commands.cluster(connection.client as Cluster, tagPrefix)
    : Commands.standalone(connection.client as Redis, tagPrefix)
  const { promise: call, start } = makeCalls({ name, operationTimeout, breaker: settings.breaker })
  const batch = new ReadBatch(commands, MAX_BATCH_KEYS)
  const startRead: Start<string, Commands.Raw> = (key, receiver) => batch.read(key, receiver)

  const decode = <A>(key: string, raw: Commands.Raw, schema: Schema.Schema<A, any>): CacheTier.ReadResult<A> => {
    const bytes = raw[0]
    if (bytes === null) return undefined
    const header = Envelope.decodeHeader(bytes)
    if (typeof header === "string") return new CacheTier.DecodeFailure({ key, reason: header })
    if (!Envelope.isFor(bytes, header, key)) {
      return new CacheTier.DecodeFailure({ key, reason: `the envelope belongs to another key` })
    }
    if (raw[1] !== null && Number(raw[1].toString()) >= header.createdAt) return undefined
    let encoded: unknown
    try {
      encoded = Envelope.decodePayload(bytes, header)
    } catch (error) {
      return new CacheTier.DecodeFailure({
        key,
        reason: `corrupt payload: ${error instanceof Error ? error.message : String(error)}`
      })
    }
    let decoded: Either.Either<A, ParseResult.ParseError>
    try {
      decoded = decoderOf(schema)(encoded)
    } catch (error) {
      return new CacheTier.DecodeFailure({ key, reason: error instanceof Error ? error.message : String(error) })
    }
    if (Either.isLeft(decoded)) return new CacheTier.DecodeFailure({ key, reason: failureReason(decoded.left) })
    return {
      value: decoded.right,
      schema,
      createdAt: header.createdAt,
      freshUntil: header.freshUntil,
      staleUntil: header.staleUntil,
      tags: header.tags,
      negative: false
    }
  }

  /** The write of an entry at `now`: `undefined` when nothing is to be written. */
  const encode = (
    key: string,
    entry: CacheTier.Entry<any>,
    now: number
  ): Commands.Write | CacheTier.TierError | undefined => {
    if (entry.negative) return undefined
    let capped = CacheTier.capLifetime(entry, now, maxTtl)
    if (capped.tags.length > 0) capped = CacheTier.capLifetime(capped, now, tagTtl)
    const px = Math.ceil(capped.staleUntil - now)
    if (!(px > 0)) return undefined
    if (px === Infinity) {
      return new CacheTier.TierError({
        tier: name,
        operation: "set",
        reason: "Encode",
        cause: "an entry without a finite staleUntil"
      })
    }
    const encoded = Schema.encodeEither(entry.schema)(entry.value)
    if (Either.isLeft(encoded)) {
      return new CacheTier.TierError({ tier: name, operation: "set", reason: "Encode", cause: encoded.left })
    }
    try {
      return [keyPrefix + key, Envelope.encode(key, capped, capped.tags, encoded.right, codec), px]
    } catch (cause) {
      return new CacheTier.TierError({ tier: name, operation: "set", reason: "Encode", cause })
    }
  }

  const setMany = (
    entries: ReadonlyArray<readonly [string, CacheTier.Entry<any>]>
  ): Effect.Effect<void, CacheTier.TierError> =>
    Effect.clockWith((clock) => {
      const now = clock.unsafeCurrentTimeMillis()
      const writes: Array<Commands.Write> = []
      let failure: CacheTier.TierError | undefined
      for (const [key, entry] of entries) {
        const write = encode(key, entry, now)
        if (write instanceof CacheTier.TierError) failure ??= write
        else if (write !== undefined) writes.push(write)
      }
      const written = writes.length === 0 ? Effect.void : call("set", () => commands.write(writes))
      return failure === undefined ? written : Effect.zipRight(written, Effect.fail(failure))
    })

  const clear = (prefix: string): Effect.Effect<void, CacheTier.TierError> => {
    const pattern = `${escapeGlob(keyPrefix + prefix)}*`
    const sweep = (node: Redis, cursor: string): Effect.Effect<void, CacheTier.TierError> =>
      Effect.flatMap(call("clear", () => commands.scan(node, cursor, pattern)), ([next, keys]) => {
        const unlinked = keys.length === 0 ? Effect.void : call("clear", () => commands.unlinkOn(node, keys))
        return next === "0" ? unlinked : Effect.zipRight(unlinked, sweep(node, next))
      })
    return Effect.flatMap(
      call("clear", async () => {
        const nodes = commands.scanTargets()
        if (nodes.length === 0) throw new Error("no Redis master known")
        return nodes
      }),
      (nodes) => Effect.forEach(nodes, (node) => sweep(node, "0"), { concurrency: "unbounded", discard: true })
    )
  }

  return CacheTier.make({
    name,
    kind: "shared",
    maxTtl,
    // Decoding in the read's callback keeps the hot path to one Effect step.
    get: (key, schema) => start("get", startRead, keyPrefix + key, (raw) => decode(key, raw, schema)),
    getMany: (keys, schema) =>
      call(
        "get",
        () =>
          commands.read(keys.map((key) => keyPrefix + key)).then((raws) =>
            raws.map((raw, i) => decode(keys[i], raw, schema))
          )
      ),
    set: (key, entry) => setMany([[key, entry]]),
    setMany,
    delete: (keys) =>
      keys.length === 0 ? Effect.void : call("delete", () => commands.unlink(keys.map((key) => keyPrefix + key))),
    invalidateTags: (tags, at) =>
      tags.length === 0
        ? Effect.void
        : call("invalidateTags", () => commands.invalidateTags(tags.map((tag) => tagPrefix + tag), at, tagTtl)),
    clear
  })
}
