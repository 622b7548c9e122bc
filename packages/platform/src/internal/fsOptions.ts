/**
 * The FileSystemTier's options, validated with the core `Validate` checks and
 * filled in with their defaults.
 *
 * @internal
 */
import { Validate } from "@layercake/core"
import type * as Duration from "effect/Duration"

/** The user's options; mirrors `FileSystemTier.Options`. @internal */
export interface Input {
  readonly directory: string
  readonly name?: string | undefined
  readonly maxTtl?: Duration.DurationInput | undefined
  readonly maxBytes?: number | undefined
  readonly pruneInterval?: Duration.DurationInput | undefined
  readonly kind?: "local" | "shared" | undefined
}

/** Validated options with defaults filled in. @internal */
export interface Resolved {
  readonly directory: string
  readonly name: string
  readonly maxTtl: number | undefined
  /** `Infinity`: no bound (expired and leftover temp files are still swept). */
  readonly maxBytes: number
  /** What a prune over the bound brings the directory down to. */
  readonly lowWaterBytes: number
  readonly pruneInterval: number
  readonly kind: "local" | "shared"
}

/** @internal */
export const DEFAULT_NAME = "filesystem"

/** 256 MiB. @internal */
export const DEFAULT_MAX_BYTES = 256 * 1024 * 1024

/** @internal */
export const DEFAULT_PRUNE_INTERVAL = 60_000

/** A prune over the bound removes files until the directory holds at most this share of `maxBytes`. @internal */
export const LOW_WATER = 0.9

/** A temp file older than this is a crash's leftover, not a write in flight. @internal */
export const TEMP_FILE_MAX_AGE = 60_000

const MODULE = "FileSystemTier"

/**
 * Validates and fills in the options; throws an `InvalidOptionError` naming
 * the first bad option.
 * @internal
 */
export const resolve = (input: Input): Resolved => {
  if (typeof input !== "object" || input === null) {
    throw new Validate.InvalidOptionError({
      module: MODULE,
      option: "options",
      value: input,
      expected: "an object with a directory"
    })
  }
  const directory = Validate.nonEmptyString(MODULE, "directory", input.directory)
  const name = input.name === undefined ? DEFAULT_NAME : Validate.nonEmptyString(MODULE, "name", input.name)
  const maxTtl = Validate.optionalDuration(MODULE, "maxTtl", input.maxTtl, undefined, { infinite: true })
  const maxBytes = input.maxBytes === undefined
    ? DEFAULT_MAX_BYTES
    : Validate.positiveNumber(MODULE, "maxBytes", input.maxBytes)
  const pruneInterval = Validate.optionalDuration(MODULE, "pruneInterval", input.pruneInterval, DEFAULT_PRUNE_INTERVAL)
  const kind = input.kind === undefined ? "local" : Validate.oneOf(MODULE, "kind", input.kind, ["local", "shared"])
  return {
    directory,
    name,
    maxTtl: maxTtl === Infinity ? undefined : maxTtl,
    maxBytes,
    lowWaterBytes: Math.floor(maxBytes * LOW_WATER),
    pruneInterval,
    kind
  }
}
