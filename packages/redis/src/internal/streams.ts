/**
 * Redis Streams over the `RedisConnection`: XADD, XREVRANGE and XREAD, the
 * fields typed with a Schema whose encoded side is a record of strings.
 *
 * @internal
 */
import { Validate } from "@layercake/core"
import * as Chunk from "effect/Chunk"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import type * as ParseResult from "effect/ParseResult"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type { Client, RedisConnection as Connection } from "../RedisConnection.js"
import type * as Api from "../RedisStreams.js"
import { tag as RedisConnection } from "./connectionTag.js"

type Operation = "publish" | "readLatest" | "read" | "subscribe"

/** @internal */
export class RedisStreamsError extends Data.TaggedError("RedisStreamsError")<{
  readonly operation: Operation
  readonly stream: string
  readonly cause: unknown
}> {
  override get message(): string {
    const cause = this.cause instanceof Error ? this.cause.message : String(this.cause)
    return `RedisStreams.${this.operation} on stream "${this.stream}" failed: ${cause}`
  }
}

/** @internal */
export const decodeFailures: Metric.Metric.Counter<number> = Metric.counter(
  "layercake_redis_stream_decode_failures_total",
  { incremental: true, description: "Stream entries skipped because their fields did not decode with the schema" }
)

const MODULE = "RedisStreams"
/** `subscribe` reads at most this many entries per XREAD ... */
const SUBSCRIBE_COUNT = 100
/** ... and blocks at most this long, so a dead socket is noticed without a keep-alive. */
const SUBSCRIBE_BLOCK_MILLIS = 5_000
const STREAM_ID = /^(\d+(-\d+)?|\$)$/
/** Errors Redis sends while it cannot serve (as opposed to a bad command): worth a retry. */
const UNAVAILABLE_REPLY = /^(LOADING|CLUSTERDOWN|MASTERDOWN|TRYAGAIN|BUSY|READONLY|NOREPLICAS)\b/

type RawEntry = readonly [id: string, fields: ReadonlyArray<string>]

// --- checks (an invalid argument is a defect: `Validate` throws inside `Effect.suspend`)

const checkStream = (stream: unknown): string => Validate.nonEmptyString(MODULE, "stream", stream)

const checkId = (fromId: unknown): string =>
  Validate.matching(MODULE, "fromId", fromId, STREAM_ID, `a stream id ("0", "$", "1700000000000" or "1700000000000-0")`)

const checkCount = (option: string, count: unknown): number =>
  Validate.integer(MODULE, option, count, 1, Number.MAX_SAFE_INTEGER)

/** BLOCK milliseconds: rounded up, `0` (Redis' "forever") for an infinite duration. */
const blockMillis = (block: unknown): number => {
  const millis = Validate.duration(MODULE, "block", block, { infinite: true })
  return Number.isFinite(millis) ? Math.ceil(millis) : 0
}

// --- replies

const entriesOf = (reply: unknown): ReadonlyArray<RawEntry> => Array.isArray(reply) ? reply as Array<RawEntry> : []

/** The entries of an XREAD reply for one stream (`null` when nothing came). */
const xreadEntries = (reply: unknown): ReadonlyArray<RawEntry> =>
  Array.isArray(reply) && Array.isArray(reply[0]) ? entriesOf(reply[0][1]) : []

const fieldsOf = (flat: ReadonlyArray<string>): Record<string, string> => {
  const fields: Record<string, string> = {}
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]] = flat[i + 1]
  return fields
}

/**
 * The entries that decode, in order. One that does not (a ParseError, or
 * schema code that throws) is skipped: logged and counted, never an error, so
 * one foreign or old entry cannot stop a reader.
 */
const decodeEntries = <A, I>(
  stream: string,
  schema: Schema.Schema<A, I>,
  raw: ReadonlyArray<RawEntry>
): Effect.Effect<Array<Api.StreamEntry<A>>> => {
  const decode = Schema.decodeUnknown(schema)
  const decodeOne = ([id, flat]: RawEntry): Effect.Effect<Option.Option<Api.StreamEntry<A>>> =>
    decode(fieldsOf(flat)).pipe(
      Effect.catchAllDefect((defect) => Effect.fail(defect)),
      Effect.matchEffect({
        onSuccess: (fields) => Effect.succeed(Option.some({ id, fields })),
        onFailure: (error) =>
          Effect.logWarning("layercake: RedisStreams entry does not decode with the schema; skipped").pipe(
            Effect.annotateLogs({ stream, id, error: error instanceof Error ? error.message : String(error) }),
            Effect.zipRight(Metric.increment(Metric.tagged(decodeFailures, "stream", stream))),
            Effect.as(Option.none())
          )
      })
    )
  return Effect.map(Effect.forEach(raw, decodeOne), (decoded) => decoded.flatMap(Option.toArray))
}

// --- calls

/**
 * A command on the shared client; a caller that stops waiting simply is not
 * resumed. Command names are lower case: ioredis applies its reply mapping by
 * that name, so that XREAD gives `[[stream, entries]]` over RESP2 and RESP3 alike.
 */
const call = (
  operation: Operation,
  stream: string,
  client: Client,
  command: string,
  args: ReadonlyArray<string | number>
): Effect.Effect<unknown, RedisStreamsError> =>
  Effect.tryPromise({
    try: () => client.call(command, [...args]),
    catch: (cause) => new RedisStreamsError({ operation, stream, cause })
  })

/**
 * A blocking command on a connection of its own. Interrupted, it disconnects
 * that connection: Redis would keep it blocked, and a QUIT queued behind the
 * blocked command would wait for it.
 */
const blockingCall = (
  operation: Operation,
  stream: string,
  client: Client,
  args: ReadonlyArray<string | number>
): Effect.Effect<unknown, RedisStreamsError> =>
  Effect.async<unknown, RedisStreamsError>((resume) => {
    client.call("xread", [...args]).then(
      (reply) => resume(Effect.succeed(reply)),
      (cause) => resume(Effect.fail(new RedisStreamsError({ operation, stream, cause })))
    )
    return Effect.sync(() => client.disconnect())
  })

const xreadArgs = (stream: string, fromId: string, count: number | undefined, block: number | undefined) => [
  ...(count === undefined ? [] : ["COUNT", count]),
  ...(block === undefined ? [] : ["BLOCK", block]),
  "STREAMS",
  stream,
  fromId
]

const span = (name: string, operation: string, stream: string) =>
  Effect.withSpan(`RedisStreams.${name}`, {
    kind: "client",
    captureStackTrace: false,
    attributes: { "db.system": "redis", "db.operation": operation, "messaging.destination.name": stream }
  })

// --- the API

/** @internal */
export const publish = <A, I extends Api.Fields>(
  stream: string,
  schema: Schema.Schema<A, I>,
  fields: A,
  options: Api.PublishOptions = {}
): Effect.Effect<string, RedisStreamsError | ParseResult.ParseError, Connection> =>
  Effect.suspend(() => {
    checkStream(stream)
    const maxLen = options.maxLen === undefined ? undefined : checkCount("maxLen", options.maxLen)
    const exact = options.exact === undefined ? false : Validate.boolean(MODULE, "exact", options.exact)
    const fail = (cause: unknown) => new RedisStreamsError({ operation: "publish", stream, cause })
    return Schema.encode(schema)(fields).pipe(
      Effect.catchAllDefect((defect) => Effect.fail(fail(defect))),
      Effect.flatMap((encoded) => {
        const pairs: Array<string> = []
        for (const [field, value] of Object.entries(encoded)) {
          if (value === undefined) continue // an absent optional field
          if (typeof value !== "string") return Effect.fail(fail(`field "${field}" is encoded as a ${typeof value}`))
          pairs.push(field, value)
        }
        if (pairs.length === 0) return Effect.fail(fail("an entry needs at least one field"))
        const trim = maxLen === undefined ? [] : ["MAXLEN", exact ? "=" : "~", maxLen]
        return Effect.flatMap(
          RedisConnection,
          ({ client }) => call("publish", stream, client, "xadd", [stream, ...trim, "*", ...pairs])
        )
      }),
      Effect.map(String),
      span("publish", "XADD", stream)
    )
  })

/** @internal */
export const readLatest = <A, I extends Api.Fields>(
  stream: string,
  schema: Schema.Schema<A, I>,
  count: number
): Effect.Effect<ReadonlyArray<Api.StreamEntry<A>>, RedisStreamsError, Connection> =>
  Effect.suspend(() => {
    checkStream(stream)
    checkCount("count", count)
    return RedisConnection.pipe(
      Effect.flatMap(({ client }) =>
        call("readLatest", stream, client, "xrevrange", [stream, "+", "-", "COUNT", count])
      ),
      Effect.flatMap((reply) => decodeEntries(stream, schema, [...entriesOf(reply)].reverse())),
      span("readLatest", "XREVRANGE", stream)
    )
  })

/** @internal */
export const read = <A, I extends Api.Fields>(
  stream: string,
  schema: Schema.Schema<A, I>,
  fromId: string,
  options: Api.ReadOptions = {}
): Effect.Effect<ReadonlyArray<Api.StreamEntry<A>>, RedisStreamsError, Connection> =>
  Effect.suspend(() => {
    checkStream(stream)
    checkId(fromId)
    const count = options.count === undefined ? undefined : checkCount("count", options.count)
    const block = options.block === undefined ? undefined : blockMillis(options.block)
    const args = xreadArgs(stream, fromId, count, block)
    return RedisConnection.pipe(
      Effect.flatMap((connection) =>
        block === undefined
          ? call("read", stream, connection.client, "xread", args)
          : Effect.scoped(Effect.flatMap(connection.duplicate, (client) => blockingCall("read", stream, client, args)))
      ),
      Effect.flatMap((reply) => decodeEntries(stream, schema, xreadEntries(reply))),
      span("read", "XREAD", stream)
    )
  })

/**
 * Worth another try: anything but a reply Redis gives to a bad command
 * (WRONGTYPE, a syntax error, NOPERM), unless the connection is closed for good.
 */
const isTransient = (client: Client) => (error: RedisStreamsError): boolean => {
  if (client.status === "end") return false
  const cause = error.cause
  return !(cause instanceof Error && cause.name === "ReplyError" && !UNAVAILABLE_REPLY.test(cause.message))
}

/** 50 ms, doubling, at most 2 seconds apart. */
const reconnectSchedule = Schedule.exponential("50 millis").pipe(Schedule.union(Schedule.spaced("2 seconds")))

/** @internal */
export const subscribe = <A, I extends Api.Fields>(
  stream: string,
  schema: Schema.Schema<A, I>,
  fromId = "$"
): Stream.Stream<Api.StreamEntry<A>, RedisStreamsError, Connection> =>
  Stream.unwrapScoped(Effect.gen(function*() {
    checkStream(stream)
    checkId(fromId)
    const client = yield* Effect.flatMap(RedisConnection, (connection) => connection.duplicate)

    const retrying = <B>(lastId: string, self: Effect.Effect<B, RedisStreamsError>) =>
      self.pipe(
        Effect.tapError((error) =>
          Effect.logDebug("layercake: RedisStreams subscription read failed; retrying from the last id seen").pipe(
            Effect.annotateLogs({ stream, lastId, error: error.message })
          )
        ),
        Effect.retry({ schedule: reconnectSchedule, while: isTransient(client) })
      )

    /** "$" becomes the id of the newest entry now, so that a read retried after a reconnect skips none. */
    const resolveLatest = retrying(
      "$",
      Effect.map(
        call("subscribe", stream, client, "xrevrange", [stream, "+", "-", "COUNT", 1]),
        (reply) => [Chunk.empty<Api.StreamEntry<A>>(), Option.some(entriesOf(reply)[0]?.[0] ?? "0-0")] as const
      )
    )

    const next = (lastId: string) =>
      lastId === "$" ? resolveLatest : retrying(
        lastId,
        blockingCall("subscribe", stream, client, xreadArgs(stream, lastId, SUBSCRIBE_COUNT, SUBSCRIBE_BLOCK_MILLIS))
      ).pipe(
        Effect.map(xreadEntries),
        // the last id seen moves past entries that did not decode too: they are skipped, not retried
        Effect.flatMap((raw) =>
          Effect.map(
            decodeEntries(stream, schema, raw),
            (entries) => [Chunk.unsafeFromArray(entries), Option.some(raw.at(-1)?.[0] ?? lastId)] as const
          )
        )
      )

    return Stream.paginateChunkEffect(fromId, next)
  }))
