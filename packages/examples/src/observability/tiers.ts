import { CacheTier } from "@layercake/core"
import { SharedTier } from "@layercake/core/testing"
import { MemoryTier } from "@layercake/memory"
import { RedisConnection, RedisTier } from "@layercake/redis"
import * as Config from "effect/Config"
import * as Layer from "effect/Layer"

/** Whether the observability examples use Redis as their L2 (REDIS_URL set). */
export const usesRedis = process.env.REDIS_URL !== undefined && process.env.REDIS_URL !== ""

/** Memory over the in-process `SharedTier` (a stand-in for Redis): tiers `memory` and `shared`. */
export const inProcessTiers: Layer.Layer<CacheTier.CacheTier> = CacheTier.stack(
  MemoryTier.layer({ maxEntries: 10_000 }),
  SharedTier.layer()
)

/** Memory over Redis when REDIS_URL is set (tiers `memory` and `redis`), else `inProcessTiers`. */
export const tiers: Layer.Layer<CacheTier.CacheTier> = usesRedis
  ? CacheTier.stack(
    MemoryTier.layer({ maxEntries: 10_000 }),
    RedisTier.layer({ keyPrefix: "layercake-observability" }).pipe(
      Layer.provide(RedisConnection.layerConfig({ url: Config.redacted("REDIS_URL") })),
      Layer.orDie
    )
  )
  : inProcessTiers
