import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type { CacheTier, Entry } from "../CacheTier.js"
import { DecodeFailure, TypeId } from "../CacheTier.js"

/** @internal */
export const makeTier = (tier: Omit<CacheTier, TypeId | "members">): CacheTier => {
  const self: CacheTier = { ...tier, [TypeId]: TypeId, members: [] }
  ;(self as { members: ReadonlyArray<CacheTier> }).members = [self]
  return self
}

/** @internal */
export const readAs = <A>(key: string, entry: Entry<any>, schema: Schema.Schema<A, any>): Entry<A> | DecodeFailure => {
  if (entry.schema === schema || entry.negative) return entry
  const converted = convert(key, entry.value, entry.schema, schema)
  return converted instanceof DecodeFailure ? converted : { ...entry, value: converted.value, schema }
}

/** A value of `from` as a value of `to`, through the encoded form. @internal */
export const convert = <A>(
  key: string,
  value: unknown,
  from: Schema.Schema<any, any>,
  to: Schema.Schema<A, any>
): { readonly value: A } | DecodeFailure => {
  const encoded = Schema.encodeEither(from)(value)
  if (Either.isLeft(encoded)) {
    return new DecodeFailure({ key, reason: ParseResult.TreeFormatter.formatErrorSync(encoded.left) })
  }
  const decoded = Schema.decodeUnknownEither(to)(encoded.right)
  if (Either.isLeft(decoded)) {
    return new DecodeFailure({ key, reason: ParseResult.TreeFormatter.formatErrorSync(decoded.left) })
  }
  return { value: decoded.right }
}

/** @internal */
export const capLifetime = (entry: Entry<any>, now: number, maxTtl: number | undefined): Entry<any> => {
  if (maxTtl === undefined) return entry
  const cap = now + maxTtl
  if (entry.staleUntil <= cap) return entry
  return { ...entry, freshUntil: Math.min(entry.freshUntil, cap), staleUntil: cap }
}
