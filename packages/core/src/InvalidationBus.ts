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
export type Message = KeysInvalidated | TagsInvalidated | Cleared | Gap

/**
 * @since 0.1.0
 * @category models
 */
export interface KeysInvalidated {
  readonly _tag: "KeysInvalidated"
  readonly sender: string
  readonly namespace: string
  readonly keys: ReadonlyArray<string>
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
