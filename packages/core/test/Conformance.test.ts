import { LocalTier, SharedTier } from "@layercake/core/testing"
import * as Conformance from "@layercake/core/testing/conformance"

Conformance.run("LocalTier", () => LocalTier.make().layer, { kind: "local" })
Conformance.run("LocalTier (maxTtl 1 s)", () => LocalTier.make({ maxTtl: 1_000 }).layer, { kind: "local" })
Conformance.run("SharedTier", () => SharedTier.layer(), { kind: "shared" })
Conformance.run("SharedTier (maxTtl 1 s)", () => SharedTier.layer({ maxTtl: "1 second" }), { kind: "shared" })
