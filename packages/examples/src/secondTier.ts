import type { CacheTier } from "@layercake/core"
import { SharedTier } from "@layercake/core/testing"
import type * as Layer from "effect/Layer"

/** The demo's L2: an in-process shared tier (encoded bytes, like Redis). */
export const secondTier: Layer.Layer<CacheTier.CacheTier> = SharedTier.layer({ name: "shared (in-process)" })
