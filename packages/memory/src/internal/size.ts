import type { CacheTier } from "@layercake/core"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"

/**
 * Bytes charged to every entry on top of its key and encoded value: the
 * store's own bookkeeping per entry (key index, slot record, frequency sketch:
 * about 60 bytes, see docs/memory.md), rounded up.
 * @internal
 */
export const ENTRY_OVERHEAD_BYTES = 100

/**
 * Estimated heap cost of an entry: the JSON of its encoded value and its key,
 * both at 2 bytes per UTF-16 code unit, plus `ENTRY_OVERHEAD_BYTES`. The kept
 * value is decoded and its true size is not observable in JavaScript; its
 * encoded form is a stable, schema-aware stand-in.
 *
 * A negative entry keeps a compute failure with its error schema; when that
 * does not encode it, it is estimated from the failure's plain JSON.
 *
 * Returns the reason when the value cannot be measured.
 * @internal
 */
export const estimateEntryBytes = (key: string, entry: CacheTier.Entry<any>): number | Unmeasurable => {
  let json = encodedJson(entry)
  // a cached failure whose error schema does not encode it is still measured, by its plain JSON
  if (json instanceof Unmeasurable && entry.negative) json = plainJson(entry.value)
  if (json instanceof Unmeasurable) return json
  return (key.length + (json?.length ?? 0)) * 2 + ENTRY_OVERHEAD_BYTES
}

/** Why an entry's size could not be estimated. @internal */
export class Unmeasurable {
  constructor(readonly reason: string) {}
}

const encodedJson = (entry: CacheTier.Entry<any>): string | undefined | Unmeasurable => {
  let encoded: Either.Either<unknown, ParseResult.ParseError>
  try {
    encoded = Schema.encodeEither(entry.schema)(entry.value)
  } catch (error) {
    return new Unmeasurable(`the schema threw: ${error instanceof Error ? error.message : String(error)}`)
  }
  if (Either.isLeft(encoded)) return new Unmeasurable(ParseResult.TreeFormatter.formatErrorSync(encoded.left))
  return plainJson(encoded.right)
}

/** `undefined` when `value` has no JSON form (`undefined`, a function). */
const plainJson = (value: unknown): string | undefined | Unmeasurable => {
  try {
    return JSON.stringify(value) as string | undefined
  } catch (error) {
    return new Unmeasurable(error instanceof Error ? error.message : String(error))
  }
}
