/**
 * Redis Streams over the `RedisConnection` in context: an append-only log of
 * entries, each a set of string fields, typed here with a Schema whose
 * encoded side is a record of strings.
 *
 * - `publish` appends (XADD), optionally trimming the stream to about
 *   `maxLen` entries; `readLatest` reads the newest entries (XREVRANGE);
 *   `read` reads the entries after an id (XREAD), optionally blocking;
 *   `subscribe` is a `Stream` of the entries after an id, as they come.
 * - An entry whose fields do not decode with the reader's schema (a ParseError,
 *   or schema code that throws) is skipped: logged as a warning with its id and
 *   counted in `decodeFailures` (tagged with the stream), never an error, so
 *   that one foreign or old entry cannot stop a reader. `readLatest(n)` may
 *   then give fewer than `n` entries.
 * - Blocking reads never block the shared client: `read` with `block` takes a
 *   duplicate connection for the call, `subscribe` one for its lifetime, and an
 *   interruption disconnects it at once.
 * - `subscribe` remembers the id of the last entry it read; after a connection
 *   failure it reads again from there (retrying with a backoff of 50 ms up to
 *   2 s), so no entry is lost or repeated as long as trimming keeps it. It fails
 *   only for errors a retry cannot mend (e.g. `WRONGTYPE`: the key is not a
 *   stream).
 * - Cluster: a stream is one key, on one master; ioredis routes every command
 *   to it.
 * - Arguments (`stream`, `fromId`, `count`, `maxLen`, `exact`, `block`) are
 *   checked with `Validate`: an invalid one is a defect (`InvalidOptionError`),
 *   a programming error rather than a failure to handle.
 * - Calls are not bounded by a timeout of their own: the shared client fails
 *   fast while disconnected; add `Effect.timeout` where you need a bound.
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Metric from "effect/Metric"
import type * as ParseResult from "effect/ParseResult"
import type * as Schema from "effect/Schema"
import type * as Stream from "effect/Stream"
import * as internal from "./internal/streams.js"
import type { RedisConnection } from "./RedisConnection.js"

/**
 * The encoded side of an entry's schema: its fields, all strings. An
 * `undefined` field (an absent optional one) is not written.
 *
 * @since 0.1.0
 * @category models
 */
export type Fields = { readonly [field: string]: string | undefined }

/**
 * An entry of a stream: its id (`"<milliseconds>-<sequence>"`, given by Redis)
 * and its decoded fields.
 *
 * @since 0.1.0
 * @category models
 */
export interface StreamEntry<A> {
  readonly id: string
  readonly fields: A
}

/**
 * @since 0.1.0
 * @category models
 */
export interface PublishOptions {
  /**
   * Trim the stream to this many entries as the entry is added (`XADD MAXLEN`).
   * A positive whole number. Default: no trimming.
   */
  readonly maxLen?: number | undefined
  /**
   * `false` (default): `MAXLEN ~`, Redis trims only whole internal nodes
   * (`stream-node-max-entries`, 100 by default), so the stream keeps at least
   * `maxLen` entries and a few more, cheaply. `true`: `MAXLEN =`, exactly
   * `maxLen`.
   */
  readonly exact?: boolean | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface ReadOptions {
  /** At most this many entries (a positive whole number). Default: all the entries after the id. */
  readonly count?: number | undefined
  /**
   * Wait up to this long for an entry when there is none after the id
   * (`Duration.infinity`: until one comes). The wait runs on a connection of
   * its own, disconnected when the read is interrupted. Default: no wait.
   */
  readonly block?: Duration.DurationInput | undefined
}

/**
 * A Redis command of the API failed: Redis unreachable, or a reply error such
 * as `WRONGTYPE` (the key holds something else than a stream). `publish` also
 * fails with it when the encoded fields are empty or not strings.
 *
 * @since 0.1.0
 * @category errors
 */
export const RedisStreamsError: new(
  args: ConstructorParameters<typeof internal.RedisStreamsError>[0]
) => RedisStreamsError = internal.RedisStreamsError

/**
 * @since 0.1.0
 * @category errors
 */
export interface RedisStreamsError extends internal.RedisStreamsError {}

/**
 * Entries skipped because their fields did not decode, tagged `stream`.
 *
 * @example
 * ```ts
 * import { Metric } from "effect"
 * import { RedisStreams } from "@layercake/redis"
 *
 * const skipped = Metric.value(RedisStreams.decodeFailures.pipe(Metric.tagged("stream", "orders")))
 * ```
 *
 * @since 0.1.0
 * @category metrics
 */
export const decodeFailures: Metric.Metric.Counter<number> = internal.decodeFailures

/**
 * Appends an entry (`XADD`) and gives its id. The fields are encoded with
 * `schema` (a `ParseError` when they do not encode).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { RedisStreams } from "@layercake/redis"
 *
 * const Order = Schema.Struct({ orderId: Schema.String, total: Schema.NumberFromString })
 *
 * const id = RedisStreams.publish("orders", Order, { orderId: "o-1", total: 12.5 }, { maxLen: 10_000 })
 * ```
 *
 * @since 0.1.0
 * @category publishing
 */
export const publish: <A, I extends Fields>(
  stream: string,
  schema: Schema.Schema<A, I>,
  fields: A,
  options?: PublishOptions
) => Effect.Effect<string, RedisStreamsError | ParseResult.ParseError, RedisConnection> = internal.publish

/**
 * The newest `count` entries (`XREVRANGE`), oldest first; none when the
 * stream does not exist.
 *
 * @since 0.1.0
 * @category reading
 */
export const readLatest: <A, I extends Fields>(
  stream: string,
  schema: Schema.Schema<A, I>,
  count: number
) => Effect.Effect<ReadonlyArray<StreamEntry<A>>, RedisStreamsError, RedisConnection> = internal.readLatest

/**
 * The entries after `fromId`, oldest first (`XREAD`; `fromId` itself
 * excluded). `"0"` reads from the start; `"$"` means the entries added from
 * now on, so it only makes sense with `block`.
 *
 * @since 0.1.0
 * @category reading
 */
export const read: <A, I extends Fields>(
  stream: string,
  schema: Schema.Schema<A, I>,
  fromId: string,
  options?: ReadOptions
) => Effect.Effect<ReadonlyArray<StreamEntry<A>>, RedisStreamsError, RedisConnection> = internal.read

/**
 * The entries after `fromId` (default `"$"`: those added after the stream
 * starts), as they come: blocking `XREAD`s on a connection of its own, opened
 * when the stream runs and closed when it stops. After a connection failure it
 * goes on from the last entry it read.
 *
 * @example
 * ```ts
 * import { Effect, Schema, Stream } from "effect"
 * import { RedisStreams } from "@layercake/redis"
 *
 * const Order = Schema.Struct({ orderId: Schema.String, total: Schema.NumberFromString })
 *
 * const program = RedisStreams.subscribe("orders", Order, "0").pipe(
 *   Stream.runForEach((entry) => Effect.log(`order ${entry.fields.orderId} (${entry.id})`))
 * )
 * ```
 *
 * @since 0.1.0
 * @category reading
 */
export const subscribe: <A, I extends Fields>(
  stream: string,
  schema: Schema.Schema<A, I>,
  fromId?: string
) => Stream.Stream<StreamEntry<A>, RedisStreamsError, RedisConnection> = internal.subscribe
