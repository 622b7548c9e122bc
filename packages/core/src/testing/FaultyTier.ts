/**
 * A tier wrapper that fails or stalls on command, for resilience tests:
 *
 * ```ts
 * const faults = FaultyTier.makeFaults()
 * const tiers = CacheTier.stack(MemoryTier.layer(), FaultyTier.layer(faults, SharedTier.layer()))
 * // ... later, inside the test:
 * faults.fail("Unavailable")   // every operation fails with a TierError
 * faults.stall("2 seconds")   // every operation sleeps first (Clock: TestClock drives it)
 * faults.heal()
 * ```
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as CacheTier from "../CacheTier.js"

type Operation = CacheTier.TierError["operation"]

/**
 * The switchboard of a faulty tier. Plain mutable state: flip it from tests.
 *
 * @since 0.1.0
 * @category models
 */
export class Faults {
  /** Operations attempted so far, per operation. */
  readonly calls: Record<Operation, number> = { get: 0, set: 0, delete: 0, invalidateTags: 0, clear: 0, fence: 0 }
  private failing:
    | { readonly reason: CacheTier.TierError["reason"]; readonly operations?: ReadonlyArray<Operation> }
    | undefined
  private stallFor: Duration.Duration | undefined

  /** Every operation (or only `operations`) fails with a `TierError` of this reason. */
  fail(reason: CacheTier.TierError["reason"], operations?: ReadonlyArray<Operation>): void {
    this.failing = operations === undefined ? { reason } : { reason, operations }
  }

  /** Every operation first sleeps this long (by `Clock`, so `TestClock` drives it). */
  stall(duration: Duration.DurationInput): void {
    this.stallFor = Duration.decode(duration)
  }

  heal(): void {
    this.failing = undefined
    this.stallFor = undefined
  }

  /** @internal */
  guard<A>(
    tier: string,
    operation: Operation,
    effect: Effect.Effect<A, CacheTier.TierError>
  ): Effect.Effect<A, CacheTier.TierError> {
    return Effect.suspend(() => {
      this.calls[operation]++
      const failing = this.failing
      const run = failing !== undefined && (failing.operations === undefined || failing.operations.includes(operation))
        ? Effect.fail(new CacheTier.TierError({ tier, operation, reason: failing.reason }))
        : effect
      return this.stallFor === undefined ? run : Effect.zipRight(Effect.sleep(this.stallFor), run)
    })
  }
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const makeFaults = (): Faults => new Faults()

/**
 * Wraps a tier so that `faults` controls it. The wrapped tier keeps its name
 * and kind, and has no synchronous access: every operation goes through the
 * faults.
 *
 * @since 0.1.0
 * @category constructors
 */
export const wrap = (faults: Faults, tier: CacheTier.CacheTier): CacheTier.CacheTier =>
  CacheTier.make({
    name: tier.name,
    kind: tier.kind,
    maxTtl: tier.maxTtl,
    get: (key, schema, errorSchema) => faults.guard(tier.name, "get", tier.get(key, schema, errorSchema)),
    getMany: (keys, schema, errorSchema) => faults.guard(tier.name, "get", tier.getMany(keys, schema, errorSchema)),
    set: (key, entry) => faults.guard(tier.name, "set", tier.set(key, entry)),
    setMany: (entries) => faults.guard(tier.name, "set", tier.setMany(entries)),
    delete: (keys) => faults.guard(tier.name, "delete", tier.delete(keys)),
    invalidateTags: (tags, at) => faults.guard(tier.name, "invalidateTags", tier.invalidateTags(tags, at)),
    clear: (prefix) => faults.guard(tier.name, "clear", tier.clear(prefix))
  })

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = <E, R>(
  faults: Faults,
  tier: Layer.Layer<CacheTier.CacheTier, E, R>
): Layer.Layer<CacheTier.CacheTier, E, R> =>
  Layer.map(
    tier,
    (context) => Context.make(CacheTier.CacheTier, wrap(faults, Context.get(context, CacheTier.CacheTier)))
  )
