import * as Conformance from "@layercake/core/testing/conformance"
import * as Layer from "effect/Layer"
import { RedisTier } from "../src/index.js"
import { cluster, standalone, unique } from "./utils.js"

// Redis drops entries by real time (PX at the entry's hard end): the suite checks their times instead,
// and one real expiry. Each test gets its own key prefix on the shared harness servers.
const options = { kind: "shared", expiry: "store" } as const

Conformance.run(
  "RedisTier (standalone, json)",
  () => RedisTier.layer({ keyPrefix: unique("conformance") }).pipe(Layer.provide(standalone())),
  options
)
Conformance.run(
  "RedisTier (standalone, msgpack, maxTtl 1 s)",
  () =>
    RedisTier.layer({ keyPrefix: unique("conformance"), codec: "msgpack", maxTtl: "1 second" }).pipe(
      Layer.provide(standalone())
    ),
  options
)
Conformance.run(
  "RedisTier (3-master cluster, json)",
  () => RedisTier.layer({ keyPrefix: unique("conformance") }).pipe(Layer.provide(cluster())),
  options
)
Conformance.run(
  "RedisTier (3-master cluster, msgpack)",
  () => RedisTier.layer({ keyPrefix: unique("conformance"), codec: "msgpack" }).pipe(Layer.provide(cluster())),
  options
)
