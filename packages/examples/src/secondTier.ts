import type { CacheTier } from "@layercake/core"
import { FileSystemTier } from "@layercake/platform"
import { RedisConnection, RedisTier } from "@layercake/redis"
import * as Config from "effect/Config"
import * as Layer from "effect/Layer"
import { fileURLToPath } from "node:url"

/** Whether the demo runs with Redis as its L2 (REDIS_URL set). */
export const usesRedis = process.env.REDIS_URL !== undefined && process.env.REDIS_URL !== ""

/** The embedded default's folder: `packages/examples/.cache/layercake-demo` (git-ignored). */
export const demoDirectory = fileURLToPath(new URL("../.cache/layercake-demo", import.meta.url))

/**
 * The demo's L2: Redis when REDIS_URL is set, else the embedded default, a
 * folder on disk. Its `kind` is `"shared"`: the demo's two `Cache` instances
 * (node A and node B, a bus between them) both use it, so a set on one must
 * not delete the file when the other hears of it.
 */
export const secondTier: Layer.Layer<CacheTier.CacheTier> = usesRedis
  ? RedisTier.layer({ keyPrefix: "layercake-demo" }).pipe(
    Layer.provide(RedisConnection.layerConfig({ url: Config.redacted("REDIS_URL") })),
    Layer.orDie
  )
  : FileSystemTier.layer({ directory: demoDirectory, maxBytes: 16 * 1024 * 1024, kind: "shared" })
