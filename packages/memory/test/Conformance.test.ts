import * as Conformance from "@layercake/core/testing/conformance"
import { MemoryTier } from "@layercake/memory"

const options = { kind: "local" } as const

Conformance.run("MemoryTier", () => MemoryTier.layer(), options)
Conformance.run("MemoryTier (maxBytes)", () => MemoryTier.layer({ maxBytes: 1_000_000 }), options)
Conformance.run(
  "MemoryTier (maxEntries 64, maxBytes, maxEntryBytes, maxTtl 1 s)",
  () => MemoryTier.layer({ maxEntries: 64, maxBytes: 1_000_000, maxEntryBytes: 100_000, maxTtl: "1 second" }),
  options
)
