/**
 * The middleware's options, checked once and resolved to their defaults.
 *
 * @internal
 */
import { Validate } from "@layercake/core"
import type * as Api from "../../HttpCache.js"

const MODULE = "HttpCache"

/** @internal */
export interface Settings {
  readonly keyPrefix: string
  readonly maxBodyBytes: number
  readonly tagHeader: string | undefined
  readonly generateEtag: boolean
  readonly heuristic: number
  readonly storeSetCookie: boolean
  readonly keepForRevalidation: number
  readonly maxTtl: number
  readonly passTtl: number
  readonly name: string
}

/** Invalid options are a defect naming the option. @internal */
export const settingsOf = (options: Api.Options): Settings => ({
  keyPrefix: options.keyPrefix === undefined ? "http" : Validate.nonEmptyString(MODULE, "keyPrefix", options.keyPrefix),
  maxBodyBytes: options.maxBodyBytes === undefined
    ? 1024 * 1024
    : Validate.integer(MODULE, "maxBodyBytes", options.maxBodyBytes, 0, 2 ** 31),
  tagHeader: options.tagHeader === false
    ? undefined
    : options.tagHeader === undefined
    ? "cache-tag"
    : Validate.nonEmptyString(MODULE, "tagHeader", options.tagHeader).toLowerCase(),
  generateEtag: options.generateEtag === undefined
    ? false
    : Validate.boolean(MODULE, "generateEtag", options.generateEtag),
  heuristic: options.heuristicFreshness === undefined
    ? 0
    : Validate.fraction(MODULE, "heuristicFreshness", options.heuristicFreshness),
  storeSetCookie: options.storeSetCookie === undefined
    ? false
    : Validate.boolean(MODULE, "storeSetCookie", options.storeSetCookie),
  keepForRevalidation: Validate.optionalDuration(
    MODULE,
    "keepForRevalidation",
    options.keepForRevalidation,
    3_600_000,
    { zero: true }
  ),
  maxTtl: Validate.optionalDuration(MODULE, "maxTtl", options.maxTtl, 86_400_000),
  passTtl: Validate.optionalDuration(MODULE, "passTtl", options.passTtl, 5_000, { zero: true }),
  name: options.name === undefined ? "layercake" : Validate.nonEmptyString(MODULE, "name", options.name)
})
