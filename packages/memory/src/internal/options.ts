import { Validate } from "@layercake/core"
import type * as Duration from "effect/Duration"
import { POLICIES, type PolicyName } from "./policy.js"

/** The user's options; mirrors `MemoryTier.Options`. @internal */
export interface Input {
  readonly maxEntries?: number | undefined
  readonly maxBytes?: number | undefined
  readonly maxEntryBytes?: number | undefined
  readonly maxTtl?: Duration.DurationInput | undefined
  readonly timeToIdle?: Duration.DurationInput | undefined
  readonly name?: string | undefined
  readonly policy?: PolicyName | undefined
}

/** Validated options with defaults filled in. @internal */
export interface Resolved {
  readonly name: string
  readonly maxEntries: number
  readonly maxBytes: number | undefined
  readonly maxEntryBytes: number | undefined
  readonly maxTtl: number | undefined
  readonly timeToIdle: number | undefined
  readonly policy: PolicyName
}

/** @internal */
export const DEFAULT_NAME = "memory"

/** @internal */
export const DEFAULT_MAX_ENTRIES = 10_000

/** @internal */
export const DEFAULT_POLICY: PolicyName = "tinylfu"

/** The key index packs a slot and part of its key's hash into 32 bits: at least one bit is left for the hash. @internal */
export const MAX_ENTRIES_LIMIT = 2 ** 30

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
  const timeToIdle = Validate.optionalDuration(MODULE, "timeToIdle", input.timeToIdle, undefined, { infinite: true })
  const policy = input.policy === undefined ? DEFAULT_POLICY : Validate.oneOf(MODULE, "policy", input.policy, POLICIES)
  return {
    name,
    maxEntries,
    maxBytes: finiteOrUndefined(maxBytes),
    maxEntryBytes: finiteOrUndefined(maxEntryBytes),
    maxTtl: finiteOrUndefined(maxTtl),
    timeToIdle: finiteOrUndefined(timeToIdle),
    policy
  }
}

/** An infinite bound is no bound: `undefined` keeps the default path (no size estimates, no capping, no idle deadlines). */
const finiteOrUndefined = (value: number | undefined): number | undefined =>
  value === undefined || value === Infinity ? undefined : value
