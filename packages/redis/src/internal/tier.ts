import { CacheTier, Validate } from "@layercake/core"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type { Cluster, Redis } from "ioredis"
import type { RedisConnection as Connection } from "../RedisConnection.js"
import type * as Api from "../RedisTier.js"
import { Activity } from "./activity.js"
import { makeCalls, type Start } from "./call.js"
import * as Commands from "./commands.js"
import { tag as RedisConnection } from "./connectionTag.js"
import * as Envelope from "./envelope.js"
import * as Fence from "./fence.js"
import { keyPrefixOf, keyStart } from "./keyPrefix.js"
import { ReadBatch } from "./readBatch.js"
import { slotOf } from "./slot.js"
import { TagTimes } from "./tagTimes.js"

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
  readonly fenceWindow: number
  readonly maxValueBytes: number
}

const MODULE = "RedisTier"

/** 8 MiB: a value this big already takes tens of milliseconds to encode, send and decode. */
const DEFAULT_MAX_VALUE_BYTES = 8 * 1024 * 1024

const settingsOf = (options: Api.Options): Settings => {
  const keyPrefix = keyPrefixOf(MODULE, options.keyPrefix)
  const codec = options.codec === undefined
    ? "json"
    : Validate.oneOf(MODULE, "codec", options.codec, ["json", "msgpack"])
  const breakerOptions = options.circuitBreaker
  if (
    breakerOptions !== undefined && breakerOptions !== false &&
    (typeof breakerOptions !== "object" || breakerOptions === null)
  ) {
    Validate.raise(MODULE, "circuitBreaker", breakerOptions, "false, or { failureThreshold?, openFor? }")
  }
  const breaker = breakerOptions === false ? undefined : {
    failureThreshold: breakerOptions?.failureThreshold === undefined
      ? 5
      : Validate.integer(MODULE, "circuitBreaker.failureThreshold", breakerOptions.failureThreshold, 1, 1_000_000),
    openForMillis: Validate.optionalDuration(MODULE, "circuitBreaker.openFor", breakerOptions?.openFor, 5_000)
  }
  return {
    name: options.name === undefined ? "redis" : Validate.nonEmptyString(MODULE, "name", options.name),
    keyPrefix: keyStart(keyPrefix),
    operationTimeout: Validate.optionalDuration(MODULE, "operationTimeout", options.operationTimeout, 250),
    breaker,
    codec,
    maxTtl: Validate.optionalDuration(MODULE, "maxTtl", options.maxTtl, undefined),
    tagTtl: Validate.optionalDuration(MODULE, "tagTtl", options.tagTtl, 86_400_000),
    fenceWindow: Validate.optionalDuration(MODULE, "fenceWindow", options.fenceWindow, 300_000),
    maxValueBytes: options.maxValueBytes === undefined
      ? DEFAULT_MAX_VALUE_BYTES
      : Validate.positiveNumber(MODULE, "maxValueBytes", options.maxValueBytes)
  }
}

/** Escapes glob characters for SCAN MATCH. */
const escapeGlob = (text: string) => text.replace(/[*?[\]\\]/g, "\\$&")

/** Reads that start in one tick go to Redis together, at most this many keys per command. */
const MAX_BATCH_KEYS = 128

type Parser = (input: unknown) => Either.Either<any, ParseResult.ParseError>
const decoders = new WeakMap<Schema.Schema<any, any>, Parser>()
const encoders = new WeakMap<Schema.Schema<any, any>, Parser>()

/** The schema's decoder, made once per schema. */
const decoderOf = (schema: Schema.Schema<any, any>): Parser => {
  let decoder = decoders.get(schema)
  if (decoder === undefined) {
    decoder = Schema.decodeUnknownEither(schema)
    decoders.set(schema, decoder)
  }
  return decoder
}

/** The schema's encoder, made once per schema. */
const encoderOf = (schema: Schema.Schema<any, any>): Parser => {
  let encoder = encoders.get(schema)
  if (encoder === undefined) {
    encoder = Schema.encodeUnknownEither(schema)
    encoders.set(schema, encoder)
  }
  return encoder
}

const messageOf = (error: unknown) => error instanceof Error ? error.message : String(error)

/**
 * Why an ill-formed key reads as a decode failure: Redis stores keys as UTF-8,
 * where a lone surrogate becomes U+FFFD, so it would share its bytes with
 * another key. Nothing is ever written under it (`set` refuses it).
 */
const ILL_FORMED_KEY = "the key is not well-formed Unicode (a lone surrogate); nothing is stored under it"

const failureReason = (error: ParseResult.ParseError) => ParseResult.TreeFormatter.formatErrorSync(error)

/** @internal */
export const make = (options: Api.Options = {}): Effect.Effect<CacheTier.CacheTier, never, Connection> =>
  Effect.gen(function*() {
    // an invalid option throws an InvalidOptionError naming it: a defect of the build
    const settings = yield* Effect.sync(() => settingsOf(options))
    const connection = yield* RedisConnection
    return makeTier(settings, connection)
  })

const makeTier = (settings: Settings, connection: Connection): CacheTier.CacheTier => {
  const { codec, keyPrefix, maxTtl, name, operationTimeout, tagTtl } = settings
  const tagPrefix = `${keyPrefix}~tag:`
  const fencing: Commands.Fencing = {
    keys: Fence.keys(keyPrefix, connection.isCluster),
    windowMillis: settings.fenceWindow
  }
  const commands = connection.isCluster
    ? Commands.cluster(connection.client as Cluster, tagPrefix, fencing)
    : Commands.standalone(connection.client as Redis, tagPrefix, fencing)
  const { promise: call, start } = makeCalls({
    name,
    operationTimeout,
    breaker: settings.breaker,
    activity: settings.breaker === undefined ? undefined : new Activity(connection.client, connection.isCluster)
  })
  /**
   * The master a Redis key lives on (Cluster), or `undefined` (one server).
   * Each master has its own breaker and its own read batch, so that one
   * stalled master neither opens the circuit nor holds the reads of the others.
   */
  const nodeOf: (redisKey: string) => string | undefined = connection.isCluster
    ? (redisKey) => (connection.client as Cluster).slots[slotOf(redisKey)]?.[0]
    : () => undefined
  /** The one master all `redisKeys` live on, or `undefined`. */
  const nodeOfAll = (redisKeys: ReadonlyArray<string>): string | undefined => {
    if (!connection.isCluster || redisKeys.length === 0) return undefined
    const node = nodeOf(redisKeys[0])
    return redisKeys.every((key) => nodeOf(key) === node) ? node : undefined
  }
  // with a bus, reads are plain GET / MGET and tags are checked against times kept here (tagTimes.ts)
  const tagTimes = new TagTimes(tagPrefix, commands.tagTimes)
  const plain: Pick<Commands.Commands, "readOne" | "read"> = {
    readOne: (key, receiver) => {
      commands.readPlain([key]).then(
        (found) => tagTimes.deliver(found[0], receiver),
        (error) => receiver.fail(error)
      )
    },
    read: (keys) =>
      keys.length === 0 ? Promise.resolve([]) : commands.readPlain(keys).then((found) => tagTimes.resolve(found))
  }
  const reader = () => tagTimes.enabled ? plain : commands
  const batches = { script: new Map<string, ReadBatch>(), plain: new Map<string, ReadBatch>() }
  const batchOf = (node: string | undefined): ReadBatch => {
    const kind = tagTimes.enabled ? batches.plain : batches.script
    let batch = kind.get(node ?? "")
    if (batch === undefined) {
      batch = new ReadBatch(reader(), MAX_BATCH_KEYS)
      kind.set(node ?? "", batch)
    }
    return batch
  }
  const startRead: Start<string, Commands.Raw> = (key, receiver) => batchOf(nodeOf(key)).read(key, receiver)

  const decode = <A>(
    key: string,
    raw: Commands.Raw,
    schema: Schema.Schema<A, any>,
    errorSchema: Schema.Schema<any, any> | undefined
  ): CacheTier.ReadResult<A> => {
    const bytes = raw[0]
    if (bytes === null) return undefined
    if (bytes.length > settings.maxValueBytes) {
      return new CacheTier.DecodeFailure({
        key,
        reason:
          `the stored value is ${bytes.length} bytes, over maxValueBytes (${settings.maxValueBytes}); read as a miss`
      })
    }
    const header = Envelope.decodeHeader(bytes)
    if (typeof header === "string") return new CacheTier.DecodeFailure({ key, reason: header })
    if (header.negative && errorSchema === undefined) return undefined
    const readWith: Schema.Schema<any, any> = header.negative ? errorSchema! : schema
    if (!Envelope.isFor(bytes, header, key)) {
      return new CacheTier.DecodeFailure({ key, reason: `the envelope belongs to another key` })
    }
    if (raw[1] !== null && Number(raw[1].toString()) >= header.stamp) return undefined
    let encoded: unknown
    try {
      encoded = Envelope.decodePayload(bytes, header)
    } catch (error) {
      return new CacheTier.DecodeFailure({ key, reason: `corrupt payload: ${messageOf(error)}` })
    }
    let decoded: Either.Either<A, ParseResult.ParseError>
    try {
      decoded = decoderOf(readWith)(encoded)
    } catch (error) {
      return new CacheTier.DecodeFailure({ key, reason: `the schema threw: ${messageOf(error)}` })
    }
    if (Either.isLeft(decoded)) return new CacheTier.DecodeFailure({ key, reason: failureReason(decoded.left) })
    return {
      value: decoded.right,
      schema: readWith,
      createdAt: header.createdAt,
      freshUntil: header.freshUntil,
      staleUntil: header.staleUntil,
      tags: header.tags,
      negative: header.negative
    }
  }

  /** The write of an entry at `now`: `undefined` when nothing is to be written. */
  const encode = (
    key: string,
    entry: CacheTier.Entry<any>,
    now: number
  ): Commands.Write | CacheTier.TierError | undefined => {
    const refuse = (cause: unknown) =>
      new CacheTier.TierError({ tier: name, operation: "set", reason: "Encode", cause })
    if (!Validate.isWellFormed(key)) {
      return refuse("the key is not well-formed Unicode (a lone surrogate): in Redis it would collide with another")
    }
    if (!entry.tags.every(Validate.isWellFormed)) {
      return refuse("a tag is not well-formed Unicode (a lone surrogate): in Redis it would collide with another")
    }
    let capped = CacheTier.capLifetime(entry, now, maxTtl)
    if (capped.tags.length > 0) capped = CacheTier.capLifetime(capped, now, tagTtl)
    const px = Math.ceil(capped.staleUntil - now)
    if (!(px > 0)) return undefined
    if (px === Infinity) return refuse("an entry without a finite staleUntil")
    // user Schema code (and, for json, a getter or toJSON) may throw: a refused value, never a defect
    try {
      const encoded = encoderOf(entry.schema)(entry.value)
      if (Either.isLeft(encoded)) return refuse(encoded.left)
      if (codec === "json") {
        const problem = Validate.jsonProblem(encoded.right)
        if (problem !== undefined) {
          return refuse(
            `${problem}; the json codec would not give it back. Use codec: "msgpack", or a schema whose encoded side is JSON`
          )
        }
      }
      const bytes = Envelope.encode(key, capped, capped.tags, encoded.right, codec, capped.negative)
      if (bytes.length > settings.maxValueBytes) {
        return refuse(
          `the encoded value is ${bytes.length} bytes, over maxValueBytes (${settings.maxValueBytes}); nothing is stored under the key`
        )
      }
      return [
        keyPrefix + key,
        bytes,
        px,
        entry.fences?.[name],
        fencing.keys.clearMarkerOf(key)
      ]
    } catch (error) {
      return refuse(`the value could not be encoded (the schema or the codec threw): ${messageOf(error)}`)
    }
  }

  const setMany = (
    entries: ReadonlyArray<readonly [string, CacheTier.Entry<any>]>
  ): Effect.Effect<void, CacheTier.TierError> =>
    Effect.clockWith((clock) => {
      const now = clock.unsafeCurrentTimeMillis()
      const writes: Array<Commands.Write> = []
      let failure: CacheTier.TierError | undefined
      const refused: Array<string> = []
      for (const [key, entry] of entries) {
        const write = encode(key, entry, now)
        if (write instanceof CacheTier.TierError) {
          failure ??= write
          if (Validate.isWellFormed(key)) refused.push(keyPrefix + key)
        } else if (write !== undefined) writes.push(write)
        else refused.push(keyPrefix + key) // its life is over: the key's older value must go too
      }
      const written = writes.length === 0 ? Effect.void : Effect.flatMap(
        call("set", () => commands.write(writes), nodeOfAll(writes.map((write) => write[0]))),
        (fencedOff) =>
          fencedOff === 0
            ? Effect.void
            : Effect.logDebug(
              `layercake: ${fencedOff} write(s) of computes that started before an invalidation of their key were fenced off`
            )
      )
      if (failure === undefined) {
        return refused.length === 0
          ? written
          : Effect.zipRight(written, call("set", () => commands.unlink(refused), nodeOfAll(refused)))
      }
      // a value that cannot be written must not leave the key's older value readable
      const dropped = refused.length === 0
        ? Effect.void
        : call("set", () => commands.unlink(refused), nodeOfAll(refused))
      return Effect.zipRight(Effect.zipRight(written, dropped), Effect.fail(failure))
    })

  /** SCAN MATCH on every master, deleting what it finds with `unlink`. */
  const sweep = (
    operation: "clear",
    pattern: string,
    unlink: (node: Redis, keys: ReadonlyArray<Buffer>) => Promise<void>
  ): Effect.Effect<void, CacheTier.TierError> => {
    const step = (node: Redis, cursor: string): Effect.Effect<void, CacheTier.TierError> =>
      Effect.flatMap(call(operation, () => commands.scan(node, cursor, pattern)), ([next, keys]) => {
        const unlinked = keys.length === 0 ? Effect.void : call(operation, () => unlink(node, keys))
        return next === "0" ? unlinked : Effect.zipRight(unlinked, step(node, next))
      })
    return Effect.flatMap(
      call(operation, async () => {
        const nodes = commands.scanTargets()
        if (nodes.length === 0) throw new Error("no Redis master known")
        return nodes
      }),
      (nodes) => Effect.forEach(nodes, (node) => step(node, "0"), { concurrency: "unbounded", discard: true })
    )
  }

  const clear = (prefix: string): Effect.Effect<void, CacheTier.TierError> =>
    Effect.zipRight(
      call("clear", () => commands.markClear(prefix)),
      sweep("clear", `${escapeGlob(keyPrefix + prefix)}*`, commands.unlinkOn)
    )

  // each matching key is deleted through the fence script, so computes running on other instances cannot restore it
  const deleteMatching = (prefix: string, pattern: string): Effect.Effect<void, CacheTier.TierError> =>
    sweep(
      "clear",
      escapeGlob(keyPrefix + prefix) + pattern,
      (_node, keys) => commands.unlink(keys.map((key) => key.toString("utf8")))
    )

  /** `getMany` when some keys are ill-formed: those are decode failures, the others are read. */
  const getManyWithIllFormed = <A>(
    keys: ReadonlyArray<string>,
    schema: Schema.Schema<A, any>,
    errorSchema: Schema.Schema<any, any> | undefined
  ): Effect.Effect<ReadonlyArray<CacheTier.ReadResult<A>>, CacheTier.TierError> => {
    const readable = keys.filter(Validate.isWellFormed)
    const read = readable.length === 0
      ? Effect.succeed([])
      : Effect.suspend(() => {
        const redisKeys = readable.map((key) => keyPrefix + key)
        return call("get", () => reader().read(redisKeys), nodeOfAll(redisKeys))
      })
    return Effect.map(read, (raws) => {
      let next = 0
      return keys.map((key) =>
        Validate.isWellFormed(key)
          ? decode(key, raws[next++], schema, errorSchema)
          : new CacheTier.DecodeFailure({ key, reason: ILL_FORMED_KEY })
      )
    })
  }

  return CacheTier.make({
    name,
    kind: "shared",
    maxTtl,
    // Decoding in the read's callback keeps the hot path to one Effect step.
    get: (key, schema, errorSchema) =>
      Validate.isWellFormed(key)
        ? start("get", startRead, keyPrefix + key, (raw) =>
          decode(key, raw, schema, errorSchema), nodeOf(keyPrefix + key))
        : Effect.succeed(new CacheTier.DecodeFailure({ key, reason: ILL_FORMED_KEY })),
    getMany: (keys, schema, errorSchema) => {
      if (!keys.every(Validate.isWellFormed)) return getManyWithIllFormed(keys, schema, errorSchema)
      const redisKeys = keys.map((key) => keyPrefix + key)
      return call(
        "get",
        () => reader().read(redisKeys).then((raws) => raws.map((raw, i) => decode(keys[i], raw, schema, errorSchema))),
        nodeOfAll(redisKeys)
      )
    },
    set: (key, entry) => setMany([[key, entry]]),
    fence: (key) =>
      Validate.isWellFormed(key)
        ? call("fence", () => commands.now(keyPrefix + key), nodeOf(keyPrefix + key))
        : Effect.succeed(0),
    setMany,
    // nothing is stored under an ill-formed key or tag; sending one would hit the key it collides with
    delete: (keys) => {
      const stored = keys.filter(Validate.isWellFormed)
      return stored.length === 0
        ? Effect.void
        : Effect.suspend(() => {
          const redisKeys = stored.map((key) => keyPrefix + key)
          return call("delete", () => commands.unlink(redisKeys), nodeOfAll(redisKeys))
        })
    },
    invalidateTags: (tags, at) => {
      const stored = tags.filter(Validate.isWellFormed)
      return stored.length === 0
        ? Effect.void
        : call("invalidateTags", async () => {
          await commands.invalidateTags(stored.map((tag) => tagPrefix + tag), at, tagTtl)
          tagTimes.forget(stored) // after it landed: a fetch from now on gets the new time
        })
    },
    clear,
    deleteMatching,
    tagTimes: {
      keepLocally: () => {
        tagTimes.enabled = true
      },
      forget: (tags) => tagTimes.forget(tags)
    }
  })
}
