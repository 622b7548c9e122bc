/**
 * Stampede protection across a fleet: before computing a key that no compute
 * of this process is running, a `Cache` with a `DistributedLock` takes the
 * key's lease; instances that find it held wait for the holder's value instead
 * of computing too.
 *
 * It is an efficiency guarantee, not a correctness one: a lease can expire
 * under a paused holder, and a lock that cannot be reached is treated as
 * absent (the instance computes). Correctness of what lands in a shared tier
 * comes from the tier's fenced writes, never from the lock.
 *
 * @since 0.1.0
 */
import type * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import type * as Option from "effect/Option"
import * as errors from "./internal/errors.js"
import * as internal from "./internal/lock.js"

/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId: typeof internal.TypeId = internal.TypeId

/**
 * @since 0.1.0
 * @category type ids
 */
export type TypeId = typeof TypeId

/**
 * A held lease: the key (the cache's full key, namespace included) and the
 * random token that proves ownership.
 *
 * @since 0.1.0
 * @category models
 */
export interface Lease {
  readonly key: string
  readonly token: string
}

/**
 * The lock could not be reached or answered with an error. The `Cache` logs
 * it and computes without the lock.
 *
 * @since 0.1.0
 * @category errors
 */
export const DistributedLockError: new(
  args: ConstructorParameters<typeof errors.DistributedLockError>[0]
) => DistributedLockError = errors.DistributedLockError

/**
 * @since 0.1.0
 * @category errors
 */
export interface DistributedLockError extends errors.DistributedLockError {}

/**
 * @since 0.1.0
 * @category models
 */
export interface DistributedLock {
  readonly [TypeId]: TypeId
  /** How long a lease lasts unless extended, in milliseconds. The `Cache` extends it every third of this. */
  readonly leaseMillis: number
  /** How long an instance waits for another's compute before computing itself, in milliseconds. */
  readonly waitTimeoutMillis: number
  /** Takes the key's lease, or `None` when another owner holds it. */
  readonly tryAcquire: (key: string) => Effect.Effect<Option.Option<Lease>, DistributedLockError>
  /** Extends a held lease by `leaseMillis`; `false` when it is no longer held by this owner. */
  readonly extend: (lease: Lease) => Effect.Effect<boolean, DistributedLockError>
  /** Releases the lease if this owner still holds it (owner-checked). */
  readonly release: (lease: Lease) => Effect.Effect<void, DistributedLockError>
}

/**
 * @since 0.1.0
 * @category tags
 */
export const DistributedLock: Context.Tag<DistributedLock, DistributedLock> = internal.tag

/**
 * An in-process lock over the Effect `Clock`, for tests and simulations of a
 * fleet in one process: provide the same built layer to every instance.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: (options?: {
  readonly leaseMillis?: number | undefined
  readonly waitTimeoutMillis?: number | undefined
}) => Layer.Layer<DistributedLock> = internal.layerMemory
