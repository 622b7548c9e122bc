import * as Duration from "effect/Duration"
import * as Option from "effect/Option"

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

/**
 * Validates and fills in the options, or returns a message naming the first
 * bad option.
 * @internal
 */
export const resolve = (input: Input): Resolved | string => {
  const name = input.name ?? DEFAULT_NAME
  if (typeof name !== "string" || name.length === 0) return `name must be a non-empty string, got ${show(input.name)}`
  const maxEntries = input.maxEntries ?? DEFAULT_MAX_ENTRIES
  if (!Number.isInteger(maxEntries) || maxEntries < 1 || maxEntries > MAX_ENTRIES_LIMIT) {
    return `maxEntries must be an integer from 1 to ${MAX_ENTRIES_LIMIT}, got ${show(input.maxEntries)}`
  }
  if (!isPositiveOrAbsent(input.maxBytes)) return `maxBytes must be a positive number, got ${show(input.maxBytes)}`
  if (!isPositiveOrAbsent(input.maxEntryBytes)) {
    return `maxEntryBytes must be a positive number, got ${show(input.maxEntryBytes)}`
  }
  const maxTtl = resolveMaxTtl(input.maxTtl)
  if (typeof maxTtl === "string") return maxTtl
  return {
    name,
    maxEntries,
    maxBytes: finiteOrUndefined(input.maxBytes),
    maxEntryBytes: finiteOrUndefined(input.maxEntryBytes),
    maxTtl
  }
}

const resolveMaxTtl = (input: Duration.DurationInput | undefined): number | undefined | string => {
  if (input === undefined) return undefined
  const decoded = Duration.decodeUnknown(input)
  if (Option.isNone(decoded)) return `maxTtl must be a Duration, got ${show(input)}`
  const millis = Duration.toMillis(decoded.value)
  if (Number.isNaN(millis) || millis <= 0) return `maxTtl must be a positive Duration, got ${show(input)}`
  return finiteOrUndefined(millis)
}

const isPositiveOrAbsent = (value: number | undefined): boolean =>
  value === undefined || (typeof value === "number" && value > 0)

/** An infinite bound is no bound: `undefined` keeps the default path (no size estimates, no capping). */
const finiteOrUndefined = (value: number | undefined): number | undefined =>
  value === undefined || value === Infinity ? undefined : value

const show = (value: unknown): string => {
  if (typeof value === "string") return JSON.stringify(value)
  try {
    return String(value)
  } catch {
    return typeof value
  }
}
