/**
 * Every error class of `@layercake/core`, in a leaf module that imports
 * nothing else of the package; the public modules re-export them.
 */
import * as Data from "effect/Data"

/** @internal */
export class DecodeFailure extends Data.TaggedClass("DecodeFailure")<{
  readonly key: string
  readonly reason: string
}> {}

/** @internal */
export type TierOperation = "get" | "set" | "delete" | "invalidateTags" | "clear" | "fence"

/** @internal */
export class TierError extends Data.TaggedError("TierError")<{
  readonly tier: string
  readonly operation: TierOperation
  readonly reason: "Unavailable" | "Timeout" | "CircuitOpen" | "Encode" | "Unknown"
  readonly cause?: unknown
}> {
  override get message(): string {
    const cause = this.cause === undefined ? "" : `: ${describeCause(this.cause)}`
    return `${this.tier}.${this.operation} failed: ${this.reason}${cause}`
  }
}

/** @internal */
export class ComputeTimeoutError extends Data.TaggedError("ComputeTimeoutError")<{
  readonly key: string
  readonly timeoutMillis: number
}> {
  override get message(): string {
    return `compute of "${this.key}" did not finish within ${this.timeoutMillis} ms`
  }
}

/** @internal */
export class InvalidOptionError extends Data.TaggedError("InvalidOptionError")<{
  /** Who reads the option, e.g. `"RedisTier"`. */
  readonly module: string
  /** The option's path, e.g. `"circuitBreaker.openFor"`. */
  readonly option: string
  readonly value: unknown
  /** What is accepted, e.g. `"a Duration above zero"`. */
  readonly expected: string
}> {
  override get message(): string {
    return `layercake: ${this.module} option "${this.option}" is invalid: got ${
      show(this.value)
    }, expected ${this.expected}`
  }
}

/** @internal */
export class InvalidKeyError extends Data.TaggedError("InvalidKeyError")<{
  readonly what: "key" | "tag"
  readonly value: string
  readonly reason: string
}> {
  override get message(): string {
    return `layercake: ${this.what} ${show(this.value)} is invalid: ${this.reason}`
  }
}

/** A value as a reader would want it in an error message. @internal */
export const show = (value: unknown): string => {
  if (typeof value === "string") return JSON.stringify(value)
  if (typeof value === "bigint") return `${value}n`
  if (typeof value === "function") return "a function"
  if (typeof value === "number" || typeof value === "boolean" || value === undefined || value === null) {
    return String(value)
  }
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return Object.prototype.toString.call(value)
  }
}

const describeCause = (cause: unknown): string =>
  cause instanceof Error ? cause.message : typeof cause === "string" ? cause : show(cause)

/** @internal */
export class DistributedLockError extends Data.TaggedError("DistributedLockError")<{
  readonly operation: "acquire" | "extend" | "release"
  readonly key: string
  readonly cause?: unknown
}> {
  override get message(): string {
    const cause = this.cause === undefined ? "" : `: ${describeCause(this.cause)}`
    return `lock ${this.operation} of "${this.key}" failed${cause}`
  }
}
