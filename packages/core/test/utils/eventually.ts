import * as Effect from "effect/Effect"

/** Yields to other fibers until `check` holds (no clock involved); dies after `rounds`. */
export const eventually = <A, E, R>(effect: Effect.Effect<A, E, R>, check: (a: A) => boolean, rounds = 10_000) =>
  Effect.gen(function*() {
    for (let i = 0; i < rounds; i++) {
      const value = yield* effect
      if (check(value)) return value
      yield* Effect.yieldNow()
    }
    return yield* Effect.dieMessage("eventually: condition never held")
  })
