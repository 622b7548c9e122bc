/**
 * Cross-instance invalidation: when one instance invalidates keys or tags, or
 * clears its namespace, every other instance on the bus drops the affected
 * entries from its local tiers. Messages carry what changed, never values.
 *
 * @since 0.1.0
 */
import type * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import type * as Queue from "effect/Queue"
import type * as Scope from "effect/Scope"
import * as internal from "./internal/bus.js"

/**
 * @since 0.1.0
 * @category models
 */
export type Message = KeysInvalidated | TagsInvalidated | PatternInvalidated | Cleared | Gap

/**
 * @since 0.1.0
 * @category models
 */
export interface KeysInvalidated {
  readonly _tag: "KeysInvalidated"
  readonly sender: string
  readonly namespace: string
  readonly keys: ReadonlyArray<string>
  /** Set by `Cache.set` with `peers: "refresh"`: receivers read the new value from the shared tiers at once. */
  readonly refresh?: boolean | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface TagsInvalidated {
  readonly _tag: "TagsInvalidated"
  readonly sender: string
  readonly namespace: string
  readonly tags: ReadonlyArray<string>
}

/**
 * Keys of the namespace matching a Redis glob pattern (`Cache.invalidatePattern`).
 *
 * @since 0.1.0
 * @category models
 */
export interface PatternInvalidated {
  readonly _tag: "PatternInvalidated"
  readonly sender: string
  readonly namespace: string
  readonly pattern: string
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Cleared {
  readonly _tag: "Cleared"
  readonly sender: string
  readonly namespace: string
}

/**
 * Emitted by a bus, never published by a cache: the subscription was broken
 * and messages may have been missed. Receivers drop their local entries.
 *
 * @since 0.1.0
 * @category models
 */
export interface Gap {
  readonly _tag: "Gap"
  /** The namespace whose messages may be lost; every namespace when absent. */
  readonly namespace?: string | undefined
}

/**
 * What a bus tells of itself, shown in `Cache.stats().fleet`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Health {
  /** Whether the bus currently receives messages (its subscriber connection is up). */
  readonly connected: boolean
  /** Times a gap was detected: a reconnect, a sequence hole, a failed health check. */
  readonly gaps: number
  /** Messages recovered after a gap (replayed from the bus's log). */
  readonly replayed: number
  /** Gaps longer than the log keeps: local entries of the namespace were dropped. */
  readonly dropped: number
  /** Publishes that failed and are being (or were) retried in the background. */
  readonly publishRetries: number
}

/**
 * @since 0.1.0
 * @category models
 */
export interface InvalidationBus {
  /** Sends a message to every subscriber, the sender's own subscription included. */
  readonly publish: (message: Exclude<Message, Gap>) => Effect.Effect<void>
  /**
   * Subscribes for the life of the scope. Every message published after the
   * subscription is made is delivered (or a `Gap` says some were missed).
   */
  readonly subscribe: Effect.Effect<Queue.Dequeue<Message>, never, Scope.Scope>
  /**
   * Subscribes to one namespace only, for buses with a channel per namespace
   * (`RedisBus`). A `Cache` uses it when the bus has it; it resolves once the
   * subscription is made, or its attempt timed out (then a `Gap` follows when
   * the bus connects).
   */
  readonly subscribeTo?: ((namespace: string) => Effect.Effect<Queue.Dequeue<Message>, never, Scope.Scope>) | undefined
  /** The bus's state; a bus without one is taken as always connected. */
  readonly health?: Effect.Effect<Health> | undefined
}

/**
 * @since 0.1.0
 * @category tags
 */
export const InvalidationBus: Context.Tag<InvalidationBus, InvalidationBus> = internal.tag

/**
 * An in-process bus (a `PubSub`): connects `Cache` instances in one process,
 * for tests and simulations of a fleet. Provide the same built layer to every
 * instance.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<InvalidationBus> = internal.layerMemory

/**
 * @since 0.1.0
 * @category constructors
 */
export const makeMemory: Effect.Effect<InvalidationBus> = internal.makeMemory
