import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as PubSub from "effect/PubSub"
import type { InvalidationBus, Message } from "../InvalidationBus.js"

/** @internal */
export const tag = Context.GenericTag<InvalidationBus>("@layercake/core/InvalidationBus")

/** @internal */
export const makeMemory: Effect.Effect<InvalidationBus> = Effect.map(
  PubSub.unbounded<Message>(),
  (pubsub): InvalidationBus => ({
    publish: (message) => Effect.asVoid(PubSub.publish(pubsub, message)),
    subscribe: PubSub.subscribe(pubsub)
  })
)

/** @internal */
export const layerMemory: Layer.Layer<InvalidationBus> = Layer.effect(tag, makeMemory)
