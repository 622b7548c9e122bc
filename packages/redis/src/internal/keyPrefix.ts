import { Validate } from "@layercake/core"

/**
 * The `keyPrefix` option of `module` (default `"layercake"`). A hash tag in the
 * prefix would put every key in one Cluster slot; a lone surrogate would
 * collide in UTF-8. Throws an `InvalidOptionError` naming the option.
 * @internal
 */
export const keyPrefixOf = (module: string, input: unknown): string => {
  if (input === undefined) return "layercake"
  if (typeof input !== "string" || /[{}]/.test(input) || !Validate.isWellFormed(input)) {
    Validate.raise(module, "keyPrefix", input, "a well-formed string without { or }")
  }
  return input as string
}

/** The prefix keys start with: `keyPrefix` and a `:` unless it is empty or ends with one. @internal */
export const keyStart = (keyPrefix: string): string =>
  keyPrefix === "" || keyPrefix.endsWith(":") ? keyPrefix : `${keyPrefix}:`
