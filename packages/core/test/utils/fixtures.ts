import { Cache, CacheTier } from "@layercake/core"
import { LocalTier, SharedTier } from "@layercake/core/testing"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Ref from "effect/Ref"

/** A cache over local + shared tiers whose tiers the test can inspect. */
export const makeFixture = (options: Partial<Cache.Options> = {}) => {
  const local = LocalTier.make({ name: "l1" })
  const shared = SharedTier.make({ name: "l2" })
  const tiers = CacheTier.stack(
    Layer.succeed(CacheTier.CacheTier, local.tier),
    Layer.succeed(CacheTier.CacheTier, shared)
  )
  const layer = Cache.layer({ namespace: "test", ...options }).pipe(Layer.provide(tiers))
  return { local, shared, layer }
}

/** A compute that counts its runs and returns `value`. */
export const counted = <A>(value: A) =>
  Effect.map(Ref.make(0), (runs) => ({
    runs,
    compute: Effect.as(Ref.update(runs, (n) => n + 1), value)
  }))
