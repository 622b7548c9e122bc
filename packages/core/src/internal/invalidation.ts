import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import type { CacheTier as Tier, TierError } from "../CacheTier.js"
import type { Message } from "../InvalidationBus.js"
import * as Glob from "./glob.js"
import * as LocalCopies from "./localCopies.js"
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

/** What stays suspect while a failed invalidation is retried: some keys, or every key. */
type Suspect = ReadonlyArray<string> | "all"

const mark = (state: CacheState, suspect: Suspect, by: 1 | -1) => {
  if (suspect === "all") {
    state.suspectAll += by
    return
  }
  for (const key of suspect) {
    const pending = (state.suspectKeys.get(key) ?? 0) + by
    if (pending > 0) state.suspectKeys.set(key, pending)
    else state.suspectKeys.delete(key)
  }
}

/** Attempts of a failed invalidation: backoff from 50 ms to 2 s between them, about a minute in all. */
const retrySchedule = Schedule.exponential("50 millis").pipe(
  Schedule.union(Schedule.spaced("2 seconds")),
  Schedule.intersect(Schedule.recurs(35))
)

/**
 * Applies an invalidation to every member. One that fails is retried in the
 * background, and until it lands what it covers is suspect: reads of it skip
 * the shared tiers, which may still hold the old value.
 * @internal
 */
export const applyEverywhere = (
  state: CacheState,
  members: ReadonlyArray<Tier>,
  what: string,
  suspect: Suspect,
  operation: (member: Tier) => Effect.Effect<void, TierError>
): Effect.Effect<void> => {
  const tierError = state.tierErrorOf(members)
  return Effect.forEach(members, (member, index) =>
    Effect.catchAll(operation(member), (error) => {
      tierError(index)
      return retryLater(state, member, what, suspect, operation, error)
    }), { discard: true })
}

/** @internal */
export const retryLater = (
  state: CacheState,
  member: Tier,
  what: string,
  suspect: Suspect,
  operation: (member: Tier) => Effect.Effect<void, TierError>,
  error: TierError
): Effect.Effect<void> => {
  if (state.closed) return Effect.logWarning(`layercake: ${what} failed in ${member.name}`, error)
  mark(state, suspect, 1)
  const attempt = Effect.tapError(
    operation(member),
    () => Effect.sync(() => state.counters.incr("invalidationRetries"))
  )
  const retried = Effect.retry(attempt, retrySchedule).pipe(
    Effect.matchCauseEffect({
      onSuccess: () => Effect.logInfo(`layercake: ${what} landed in ${member.name} after retrying`),
      onFailure: (cause) => {
        state.counters.incr("invalidationsAbandoned")
        return Effect.logError(
          `layercake: gave up on ${what} in ${member.name}; it may serve the old value until the entry expires`,
          cause
        )
      }
    }),
    Effect.ensuring(Effect.sync(() => mark(state, suspect, -1)))
  )
  return Effect.zipRight(
    Effect.logWarning(
      `layercake: ${what} failed in ${member.name}; retrying in the background, reads skip it for what it covers until it lands`,
      error
    ),
    Effect.asVoid(FiberSet.run(state.fibers, retried))
  )
}

/**
 * A local drop: discards the computes it covers, moves the epoch (so that
 * reads under way do not leave older copies behind, see `localCopies.ts`),
 * and applies `operation` to every member.
 */
const drop = (
  state: CacheState,
  members: ReadonlyArray<Tier>,
  discard: Effect.Effect<void>,
  what: string,
  suspect: Suspect,
  operation: (member: Tier) => Effect.Effect<void, TierError>
) =>
  discard.pipe(
    Effect.zipRight(Effect.sync(() => {
      state.epoch++
    })),
    Effect.zipRight(applyEverywhere(state, members, what, suspect, operation))
  )

const dropKeys = (state: CacheState, members: ReadonlyArray<Tier>, keys: ReadonlyArray<string>) => {
  const fullKeys = keys.map((key) => state.prefix + key)
  const what = `invalidating ${fullKeys.length === 1 ? `"${fullKeys[0]}"` : `${fullKeys.length} keys`}`
  return drop(state, members, state.inflight.discardKeys(fullKeys), what, fullKeys, (member) => member.delete(fullKeys))
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
    return drop(
      state,
      members,
      state.inflight.discard((flight) => flight.dynamicTags || flight.tags.some((tag) => tagKeys.includes(tag))),
      `invalidating tags ${tags.join(", ")}`,
      "all",
      (member) => member.invalidateTags(tagKeys, at)
    )
  })
}

/** @internal */
export const invalidatePattern = (state: CacheState, pattern: string): Effect.Effect<void> =>
  Effect.suspend(() => {
    Validate.checkKey("key", pattern)
    return Effect.zipRight(
      dropMatching(state, state.members, pattern),
      publish(state, { _tag: "PatternInvalidated", sender: state.instanceId, namespace: state.namespace, pattern })
    )
  })

const dropMatching = (state: CacheState, members: ReadonlyArray<Tier>, pattern: string) => {
  const matches = Glob.matcher(pattern)
  return drop(
    state,
    members,
    state.inflight.discard((flight) => matches(state.userKey(flight.key))),
    `invalidating the pattern "${pattern}"`,
    "all",
    (member) =>
      member.deleteMatching === undefined ? member.clear(state.prefix) : member.deleteMatching(state.prefix, pattern)
  )
}

const dropAll = (state: CacheState, members: ReadonlyArray<Tier>) =>
  drop(
    state,
    members,
    Effect.zipRight(state.inflight.discard(() => true), Effect.sync(() => state.retryAfter.clear())),
    `clearing "${state.namespace}"`,
    "all",
    (member) => member.clear(state.prefix)
  )

/** Tells shared tiers that keep tag times locally to fetch these again (all, for a gap). */
const forgetTagTimes = (state: CacheState, tags: ReadonlyArray<string> | undefined) => {
  for (const member of state.members) if (member.kind === "shared") member.tagTimes?.forget(tags)
}

/**
 * Reads the new values of `keys` from the shared tiers into the local ones,
 * in the background, for the keys whose schema this instance knows.
 */
const refetch = (state: CacheState, keys: ReadonlyArray<string>): Effect.Effect<void> => {
  if (state.firstShared <= 0 || state.closed) return Effect.void
  return Effect.forEach(keys, (key) => {
    const fullKey = state.prefix + key
    const schema = state.schemaOf(fullKey)
    if (schema === undefined) return Effect.void
    const read = Effect.clockWith((clock) =>
      LocalCopies.readShared(state, fullKey, schema, clock.unsafeCurrentTimeMillis(), true)
    )
    return Effect.asVoid(FiberSet.run(state.fibers, read))
  }, { discard: true })
}

/** Applies a message from another instance to the local tiers only. @internal */
export const receive = (state: CacheState, message: Message): Effect.Effect<void> => {
  const apply = (): Effect.Effect<void> => {
    if (message._tag === "Gap") {
      forgetTagTimes(state, undefined)
      if (message.namespace !== undefined && message.namespace !== state.namespace) return Effect.void
      state.counters.incr("gapsApplied")
      return dropAll(state, state.local)
    }
    if (message.sender === state.instanceId || message.namespace !== state.namespace) return Effect.void
    switch (message._tag) {
      case "KeysInvalidated":
        return message.refresh === true
          ? Effect.zipRight(dropKeys(state, state.local, message.keys), refetch(state, message.keys))
          : dropKeys(state, state.local, message.keys)
      case "TagsInvalidated":
        forgetTagTimes(state, message.tags.map((tag) => state.prefix + tag))
        return dropTags(state, state.local, message.tags)
      case "PatternInvalidated":
        return dropMatching(state, state.local, message.pattern)
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
