import * as Context from "effect/Context"
import * as Data from "effect/Data"
import type { RedisConnection } from "../RedisConnection.js"

/** @internal */
export const TypeId: unique symbol = Symbol.for("@layercake/redis/RedisConnection")

/** @internal */
export const tag: Context.Tag<RedisConnection, RedisConnection> = Context.GenericTag<RedisConnection>(
  "@layercake/redis/RedisConnection"
)

/** @internal */
export class RedisConnectionError extends Data.TaggedError("RedisConnectionError")<{
  readonly reason: "Unavailable" | "Timeout" | "InvalidOptions"
  readonly message: string
  readonly cause?: unknown
}> {}
