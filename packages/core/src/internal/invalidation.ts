import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { CacheTier as Tier } from "../CacheTier.js"
import type { Message } from "../InvalidationBus.js"
import { forEachMember } from "./stack.js"
import type { CacheState } from "./state.js"
import * as Validate from "./validate.js"

/** @internal */
export const publish = (
  state: CacheState,
  message: Exclude<Message, { readonly _tag: "Gap" }>
): Effect.Effect<void> => {
  if (Option.isNone(state.bus)) return Effect.void
  return state.bus.value.publish(message).pipe(
    Effect.catchAllCause((cause) => Effect.logWarning("layercake: publishing an invalidation failed", cause))
  )
}

/** @internal */
export const invalidate = (state: CacheState, keys: ReadonlyArray<string>): Effect.Effect<void> =>
  Effect.suspend(() => {
    keys.forEach((key) => Validate.checkKey("key", key))
    return Effect.zipRight(
      dropKeys(state, state.members, keys),
      publish(state, { _tag: "KeysInvalidated", sender: state.instanceId, namespace: state.namespace, keys })
    )
  })

/** @internal */
export const invalidateTags = (state: CacheState, tags: ReadonlyArray<string>): Effect.Effect<void> =>
  Effect.suspend(() => {
    tags.forEach((tag) => Validate.checkKey("tag", tag))
    return Effect.zipRight(
      dropTags(state, state.members, tags),
      publish(state, { _tag: "TagsInvalidated", sender: state.instanceId, namespace: state.namespace, tags })
    )
  })

/** @internal */
export const clear = (state: CacheState): Effect.Effect<void> =>
  Effect.zipRight(
    dropAll(state, state.members),
    publish(state, { _tag: "Cleared", sender: state.instanceId, namespace: state.namespace })
  )

const dropKeys = (state: CacheState, members: ReadonlyArray<Tier>, keys: ReadonlyArray<string>) => {
  const fullKeys = keys.map((key) => state.prefix + key)
  return Effect.zipRight(
    state.inflight.discardKeys(fullKeys),
    forEachMember(members, (member) => member.delete(fullKeys), state.tierErrorOf(members))
  )
}

const stampInvalidation = (state: CacheState, now: number): number => {
  const at = Math.max(now, state.lastTaggedWrite)
  state.lastTagInvalidation = Math.max(state.lastTagInvalidation, at)
  return at
}

/** `tags` as the user wrote them; tiers and flights hold them prefixed with the namespace. */
const dropTags = (state: CacheState, members: ReadonlyArray<Tier>, tags: ReadonlyArray<string>) => {
  const tagKeys = tags.map((tag) => state.prefix + tag)
  return Effect.clockWith((clock) => {
    const at = stampInvalidation(state, clock.unsafeCurrentTimeMillis())
    return Effect.zipRight(
      state.inflight.discard((flight) => flight.dynamicTags || flight.tags.some((tag) => tagKeys.includes(tag))),
      forEachMember(members, (member) => member.invalidateTags(tagKeys, at), state.tierErrorOf(members))
    )
  })
}

const dropAll = (state: CacheState, members: ReadonlyArray<Tier>) =>
  Effect.zipRight(
    Effect.zipRight(state.inflight.discard(() => true), Effect.sync(() => state.retryAfter.clear())),
    forEachMember(members, (member) => member.clear(state.prefix), state.tierErrorOf(members))
  )

/** Applies a message from another instance to the local tiers only. @internal */
export const receive = (state: CacheState, message: Message): Effect.Effect<void> => {
  const apply = (): Effect.Effect<void> => {
    if (message._tag === "Gap") {
      state.counters.incr("gapsApplied")
      return message.namespace === undefined || message.namespace === state.namespace
        ? dropAll(state, state.local)
        : Effect.void
    }
    if (message.sender === state.instanceId || message.namespace !== state.namespace) return Effect.void
    switch (message._tag) {
      case "KeysInvalidated":
        return dropKeys(state, state.local, message.keys)
      case "TagsInvalidated":
        return dropTags(state, state.local, message.tags)
      case "Cleared":
        return dropAll(state, state.local)
    }
  }
  return Effect.suspend(apply).pipe(
    Effect.catchAllCause((cause) => {
      state.counters.incr("backgroundDefects")
      return Effect.logError("layercake: applying an invalidation message failed", cause)
    })
  )
}
