/**
 * The option checks every layercake package uses, for tier authors too: each
 * returns the checked value or raises an `InvalidOptionError` whose message
 * names the module, the option, the value and what is accepted. Call them when
 * a layer is built (inside `Effect.sync` / `Effect.suspend`), so that an
 * invalid option is a defect of the build, readable in `Cause.pretty`.
 *
 * @example
 * ```ts
 * import { Validate } from "@layercake/core"
 *
 * // layercake: MyTier option "timeout" is invalid: got 0, expected a Duration above zero, ...
 * const timeout = Validate.duration("MyTier", "timeout", 0)
 * ```
 *
 * @since 0.1.0
 */
import * as errors from "./internal/errors.js"
import * as internal from "./internal/validate.js"

/**
 * An option that cannot be used. Raised as a defect by the checks below.
 *
 * @since 0.1.0
 * @category errors
 */
export const InvalidOptionError: new(
  args: ConstructorParameters<typeof errors.InvalidOptionError>[0]
) => InvalidOptionError = errors.InvalidOptionError

/**
 * @since 0.1.0
 * @category errors
 */
export interface InvalidOptionError extends errors.InvalidOptionError {}

/**
 * A key or tag that cannot be stored faithfully (not well-formed Unicode).
 * Raised as a defect by the `Cache`.
 *
 * @since 0.1.0
 * @category errors
 */
export const InvalidKeyError: new(
  args: ConstructorParameters<typeof errors.InvalidKeyError>[0]
) => InvalidKeyError = errors.InvalidKeyError

/**
 * @since 0.1.0
 * @category errors
 */
export interface InvalidKeyError extends errors.InvalidKeyError {}

/**
 * Which durations `duration` accepts besides finite ones above zero.
 *
 * @since 0.1.0
 * @category models
 */
export type DurationBounds = internal.DurationBounds

/**
 * Milliseconds of a `Duration.DurationInput`, or `NaN` when it is not one.
 *
 * @since 0.1.0
 * @category conversions
 */
export const toMillis: (input: unknown) => number = internal.toMillis

/**
 * A Duration input as milliseconds; above zero and finite unless `bounds` allow more.
 *
 * @since 0.1.0
 * @category checks
 */
export const duration: (module: string, option: string, input: unknown, bounds?: DurationBounds) => number =
  internal.duration

/**
 * `duration` of `input`, or `fallback` when it is `undefined`.
 *
 * @since 0.1.0
 * @category checks
 */
export const optionalDuration: <F extends number | undefined>(
  module: string,
  option: string,
  input: unknown,
  fallback: F,
  bounds?: DurationBounds
) => number | F = internal.optionalDuration

/**
 * A whole number within `min..max`.
 *
 * @since 0.1.0
 * @category checks
 */
export const integer: (module: string, option: string, input: unknown, min: number, max: number) => number =
  internal.integer

/**
 * A number above zero (`Infinity` included).
 *
 * @since 0.1.0
 * @category checks
 */
export const positiveNumber: (module: string, option: string, input: unknown) => number = internal.positiveNumber

/**
 * A number within `0..1`.
 *
 * @since 0.1.0
 * @category checks
 */
export const fraction: (module: string, option: string, input: unknown) => number = internal.fraction

/**
 * One of the `accepted` strings.
 *
 * @since 0.1.0
 * @category checks
 */
export const oneOf: <const L extends ReadonlyArray<string>>(
  module: string,
  option: string,
  input: unknown,
  accepted: L
) => L[number] = internal.oneOf

/**
 * `true` or `false`.
 *
 * @since 0.1.0
 * @category checks
 */
export const boolean: (module: string, option: string, input: unknown) => boolean = internal.boolean

/**
 * A non-empty, well-formed string.
 *
 * @since 0.1.0
 * @category checks
 */
export const nonEmptyString: (module: string, option: string, input: unknown) => string = internal.nonEmptyString

/**
 * A string matching `pattern`; `expected` says in words what that is.
 *
 * @since 0.1.0
 * @category checks
 */
export const matching: (module: string, option: string, input: unknown, pattern: RegExp, expected: string) => string =
  internal.matching

/**
 * Raises an `InvalidOptionError` for a check of your own.
 *
 * @since 0.1.0
 * @category checks
 */
export const raise: (module: string, option: string, value: unknown, expected: string) => never = internal.raise

/**
 * Whether `text` is well-formed Unicode (every surrogate paired).
 *
 * @since 0.1.0
 * @category predicates
 */
export const isWellFormed: (text: string) => boolean = internal.isWellFormed

/**
 * Why JSON would not give back `encoded` (a value already encoded with its
 * Schema), or `undefined` when it would: non-finite numbers, `undefined` in
 * arrays, bigints, and objects that are not plain (`Date`, `Map`, typed
 * arrays, class instances). Tiers that store JSON reject such values on
 * `set` instead of storing something that no longer decodes.
 *
 * @since 0.1.0
 * @category checks
 */
export const jsonProblem: (encoded: unknown) => string | undefined = internal.jsonProblem
