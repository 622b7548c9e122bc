import { LocalTier, SharedTier } from "@layercake/core/testing"
import * as Conformance from "@layercake/core/testing/conformance"

Conformance.run("LocalTier", () => LocalTier.make().layer)
Conformance.run("LocalTier (maxTtl 1 s)", () => LocalTier.make({ maxTtl: 1_000 }).layer)
Conformance.run("SharedTier", () => SharedTier.layer())
Conformance.run("SharedTier (maxTtl 1 s)", () => SharedTier.layer({ maxTtl: "1 second" }))
