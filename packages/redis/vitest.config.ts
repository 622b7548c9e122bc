import { mergeConfig } from "vitest/config"
import shared from "../../vitest.shared.js"

export default mergeConfig(shared, {
  test: {
    name: "redis",
    // Starts a standalone redis-server and a 3-master cluster on free loopback
    // ports (or uses REDIS_URL / REDIS_CLUSTER_NODES), and stops them after.
    globalSetup: ["./test/harness/globalSetup.ts"]
  }
})
