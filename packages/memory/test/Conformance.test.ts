import * as Conformance from "@layercake/core/testing/conformance"
import { MemoryTier } from "@layercake/memory"

const options = { kind: "local" } as const

for (const policy of ["tinylfu", "lru"] as const) {
  Conformance.run(`MemoryTier (${policy})`, () => MemoryTier.layer({ policy }), options)
  Conformance.run(`MemoryTier (${policy}, maxBytes)`, () => MemoryTier.layer({ policy, maxBytes: 1_000_000 }), options)
  Conformance.run(
    `MemoryTier (${policy}, maxEntries 64, maxBytes, maxEntryBytes, maxTtl 1 s)`,
    () => MemoryTier.layer({ policy, maxEntries: 64, maxBytes: 1_000_000, maxEntryBytes: 100_000, maxTtl: "1 second" }),
    options
  )
  Conformance.run(
    `MemoryTier (${policy}, timeToIdle 1 s)`,
    () => MemoryTier.layer({ policy, timeToIdle: "1 second" }),
    options
  )
}
Conformance.run("MemoryTier (default policy)", () => MemoryTier.layer(), options)
