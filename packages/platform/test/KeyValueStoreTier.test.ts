import * as KeyValueStore from "@effect/platform/KeyValueStore"
import * as Conformance from "@layercake/core/testing/conformance"
import * as Layer from "effect/Layer"
import * as KeyValueStoreTier from "../src/KeyValueStoreTier.js"

Conformance.run(
  "KeyValueStoreTier (layerMemory)",
  () => KeyValueStoreTier.layer().pipe(Layer.provide(KeyValueStore.layerMemory)),
  { kind: "shared" }
)
