import { mergeConfig } from "vitest/config"
import shared from "../../vitest.shared.js"

const config = mergeConfig(shared, { test: { name: "examples" } })

// Without the shared `module` condition here: with it, the test workers' Node (started with
// `--conditions` from `ssr.resolve.conditions`) loads @opentelemetry/api's bundler build, whose
// imports have no file extensions, and fails.
config.ssr.resolve.conditions = config.ssr.resolve.conditions.filter((condition: string) => condition !== "module")

export default config
