import { Validate } from "@layercake/core"
import type * as Duration from "effect/Duration"

/** The user's options; mirrors `MemoryTier.Options`. @internal */
export interface Input {
  readonly maxEntries?: number | undefined
  readonly maxBytes?: number | undefined
  readonly maxEntryBytes?: number | undefined
  readonly maxTtl?: Duration.DurationInput | undefined
  readonly name?: string | undefined
}

/** Validated options with defaults filled in. @internal */
export interface Resolved {
  readonly name: string
  readonly maxEntries: number
  readonly maxBytes: number | undefined
  readonly maxEntryBytes: number | undefined
  readonly maxTtl: number | undefined
}

/** @internal */
export const DEFAULT_NAME = "memory"

/** @internal */
export const DEFAULT_MAX_ENTRIES = 10_000

/** Slot indices live in an `Int32Array`, and slot 0 is the list sentinel. @internal */
export const MAX_ENTRIES_LIMIT = 2 ** 31 - 2

const MODULE = "MemoryTier"

/**
 * Validates and fills in the options; throws an `InvalidOptionError` naming
 * the first bad option.
 * @internal
 */
export const resolve = (input: Input): Resolved => {
  const name = input.name === undefined ? DEFAULT_NAME : Validate.nonEmptyString(MODULE, "name", input.name)
  const maxEntries = input.maxEntries === undefined
    ? DEFAULT_MAX_ENTRIES
    : Validate.integer(MODULE, "maxEntries", input.maxEntries, 1, MAX_ENTRIES_LIMIT)
  const maxBytes = input.maxBytes === undefined
    ? undefined
    : Validate.positiveNumber(MODULE, "maxBytes", input.maxBytes)
  const maxEntryBytes = input.maxEntryBytes === undefined
    ? undefined
    : Validate.positiveNumber(MODULE, "maxEntryBytes", input.maxEntryBytes)
  const maxTtl = Validate.optionalDuration(MODULE, "maxTtl", input.maxTtl, undefined, { infinite: true })
  return {
    name,
    maxEntries,
    maxBytes: finiteOrUndefined(maxBytes),
    maxEntryBytes: finiteOrUndefined(maxEntryBytes),
    maxTtl: finiteOrUndefined(maxTtl)
  }
}

/** An infinite bound is no bound: `undefined` keeps the default path (no size estimates, no capping). */
const finiteOrUndefined = (value: number | undefined): number | undefined =>
  value === undefined || value === Infinity ? undefined : value
