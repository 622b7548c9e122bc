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
  const encoded = Schema.encodeEither(entry.schema)(entry.value)
  if (Either.isLeft(encoded)) {
    return new DecodeFailure({ key, reason: ParseResult.TreeFormatter.formatErrorSync(encoded.left) })
  }
  const decoded = Schema.decodeUnknownEither(schema)(encoded.right)
  if (Either.isLeft(decoded)) {
    return new DecodeFailure({ key, reason: ParseResult.TreeFormatter.formatErrorSync(decoded.left) })
  }
  return { ...entry, value: decoded.right, schema }
}

/** @internal */
export const capLifetime = (entry: Entry<any>, now: number, maxTtl: number | undefined): Entry<any> => {
  if (maxTtl === undefined) return entry
  const cap = now + maxTtl
  if (entry.staleUntil <= cap) return entry
  return { ...entry, freshUntil: Math.min(entry.freshUntil, cap), staleUntil: cap }
}
