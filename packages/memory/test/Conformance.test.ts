import * as Conformance from "@layercake/core/testing/conformance"
import { MemoryTier } from "@layercake/memory"

Conformance.run("MemoryTier", () => MemoryTier.layer())
Conformance.run(
  "MemoryTier (maxBytes, maxTtl 1 s)",
  () => MemoryTier.layer({ maxBytes: 1_000_000, maxTtl: "1 second" })
)
