import { defineConfig } from "vitest/config"

// Projects are listed in vitest.workspace.ts; this file holds run-wide options.
export default defineConfig({
  test: {
    reporters: ["default", ["json", { outputFile: "build/test-results.json" }]]
  }
})
