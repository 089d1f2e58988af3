import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// The network lab: root, namespaces, real faults. Run by `npm run test:lab`, never by `npm test`.
export default defineConfig({
  test: {
    root: fileURLToPath(new URL("../..", import.meta.url)),
    include: ["test/lab/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    // Scenarios share one topology and change it in turn: never in parallel.
    fileParallelism: false,
    sequence: { concurrent: false },
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // In CI a JSON copy of the results feeds the one closing line .ci/run prints.
    reporters: process.env.CI
      ? ["default", ["json", { outputFile: "reports/lab.json" }]]
      : ["default"],
  },
});
