import * as Context from "effect/Context"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type { CacheTier, Entry, ReadResult, Stack } from "../CacheTier.js"
import { DecodeFailure } from "./errors.js"

/** @internal */
export const TypeId: unique symbol = Symbol.for("@layercake/core/CacheTier")

/** @internal */
export const StackTypeId: unique symbol = Symbol.for("@layercake/core/CacheTier/Stack")

/** @internal */
export const tag: Context.Tag<CacheTier, CacheTier> = Context.GenericTag<CacheTier>("@layercake/core/CacheTier")

/** @internal */
export const make = (tier: Omit<CacheTier, typeof TypeId>): CacheTier => ({ ...tier, [TypeId]: TypeId })

/** @internal */
export const isStack = (tier: CacheTier): tier is Stack => StackTypeId in tier

/** @internal */
export const membersOf = (tier: CacheTier): ReadonlyArray<CacheTier> => isStack(tier) ? tier.members : [tier]

/**
 * Reads a kept entry as the caller asks for it: a value of `schema`, or a
 * cached failure of `errorSchema`. A cached failure is a miss for a caller
 * without an error schema.
 * @internal
 */
export const readAs = <A>(
  key: string,
  entry: Entry<any>,
  schema: Schema.Schema<A, any>,
  errorSchema?: Schema.Schema<any, any> | undefined
): ReadResult<A> => {
  if (entry.negative) {
    if (errorSchema === undefined) return undefined
    if (entry.schema === errorSchema) return entry
    const converted = convert(key, entry.value, entry.schema, errorSchema)
    return converted instanceof DecodeFailure ? converted : { ...entry, value: converted.value, schema: errorSchema }
  }
  if (entry.schema === schema) return entry
  const converted = convert(key, entry.value, entry.schema, schema)
  return converted instanceof DecodeFailure ? converted : { ...entry, value: converted.value, schema }
}

/**
 * A value of `from` as a value of `to`, through the encoded form. User Schema
 * code that throws is a `DecodeFailure`, like a value that does not match.
 * @internal
 */
export const convert = <A>(
  key: string,
  value: unknown,
  from: Schema.Schema<any, any>,
  to: Schema.Schema<A, any>
): { readonly value: A } | DecodeFailure => {
  try {
    const encoded = Schema.encodeEither(from)(value)
    if (Either.isLeft(encoded)) return decodeFailure(key, encoded.left)
    const decoded = Schema.decodeUnknownEither(to)(encoded.right)
    if (Either.isLeft(decoded)) return decodeFailure(key, decoded.left)
    return { value: decoded.right }
  } catch (error) {
    return new DecodeFailure({ key, reason: `the schema threw: ${thrown(error)}` })
  }
}

const decodeFailure = (key: string, error: ParseResult.ParseError) =>
  new DecodeFailure({ key, reason: ParseResult.TreeFormatter.formatErrorSync(error) })

/** The message of something thrown. @internal */
export const thrown = (error: unknown): string => error instanceof Error ? error.message : String(error)

/** @internal */
export const capLifetime = (entry: Entry<any>, now: number, maxTtl: number | undefined): Entry<any> => {
  if (maxTtl === undefined) return entry
  const cap = now + maxTtl
  if (entry.staleUntil <= cap) return entry
  return { ...entry, freshUntil: Math.min(entry.freshUntil, cap), staleUntil: cap }
}
