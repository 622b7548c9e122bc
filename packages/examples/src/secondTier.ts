import type { CacheTier } from "@layercake/core"
import { SharedTier } from "@layercake/core/testing"
import { RedisConnection, RedisTier } from "@layercake/redis"
import * as Config from "effect/Config"
import * as Layer from "effect/Layer"

/** Whether the demo runs with Redis as its L2 (REDIS_URL set). */
export const usesRedis = process.env.REDIS_URL !== undefined && process.env.REDIS_URL !== ""

/**
 * The demo's L2: Redis when REDIS_URL is set, else an in-process shared tier
 * (encoded bytes, like Redis) so the demo needs nothing installed.
 */
export const secondTier: Layer.Layer<CacheTier.CacheTier> = usesRedis
  ? RedisTier.layer({ keyPrefix: "layercake-demo" }).pipe(
    Layer.provide(RedisConnection.layerConfig({ url: Config.redacted("REDIS_URL") })),
    Layer.orDie
  )
  : SharedTier.layer({ name: "shared (in-process)" })
