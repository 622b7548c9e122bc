import * as Context from "effect/Context"
import type { Cache } from "../Cache.js"

/** @internal */
export const TypeId: unique symbol = Symbol.for("@layercake/core/Cache")

/** @internal */
export const tag: Context.Tag<Cache, Cache> = Context.GenericTag<Cache>("@layercake/core/Cache")
