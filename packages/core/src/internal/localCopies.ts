import * as Effect from "effect/Effect"
import type * as Schema from "effect/Schema"
import type { Entry } from "../CacheTier.js"
import * as Stack from "./stack.js"
import type { CacheState } from "./state.js"

/**
 * A read past the top tier, which promotes what it finds into the local
 * tiers. When a local drop happens while it runs (`state.epoch` moved), the
 * copy it promoted may be older than the drop, so it is removed again; the
 * read still answers with what it found.
 * @internal
 */
export const guardPromotion = <A>(
  state: CacheState,
  fullKey: string,
  read: Effect.Effect<Entry<A> | undefined>
): Effect.Effect<Entry<A> | undefined> => {
  if (state.local.length === 0) return read
  return Effect.suspend(() => {
    const epoch = state.epoch
    return Effect.tap(
      read,
      (found) => found !== undefined && state.epoch !== epoch ? forget(state, fullKey) : Effect.void
    )
  })
}

const forget = (state: CacheState, fullKey: string) =>
  Effect.ignore(Effect.forEach(state.local, (member) => member.delete([fullKey]), { discard: true }))

/**
 * Reads the key from the first shared tier down, promoting it into the tiers
 * above (guarded as above); counted in the per-tier stats when `counted`.
 * @internal
 */
export const readShared = <A>(
  state: CacheState,
  fullKey: string,
  schema: Schema.Schema<A, any>,
  now: number,
  counted: boolean
): Effect.Effect<Entry<A> | undefined> => {
  const read = Stack.read(
    state.members,
    state.firstShared,
    fullKey,
    schema,
    undefined,
    now,
    counted ? state.observer : undefined
  )
  return Effect.isEffect(read) ? guardPromotion(state, fullKey, read) : Effect.succeed(read)
}
