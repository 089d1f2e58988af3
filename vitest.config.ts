import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/lab/**", "node_modules/**"],
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // In CI a JSON copy of the results feeds the one closing line .ci/run prints.
    reporters: process.env.CI
      ? ["default", ["json", { outputFile: "reports/unit.json" }]]
      : ["default"],
  },
});
