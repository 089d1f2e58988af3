// Prints one closing line, "N passed, N failed, N skipped", over every vitest JSON report.
import { readdirSync, readFileSync } from "node:fs";

let passed = 0;
let failed = 0;
let skipped = 0;
let files = [];
try {
  files = readdirSync("reports").filter((f) => f.endsWith(".json"));
} catch {
  // no reports: nothing ran
}
for (const f of files) {
  const r = JSON.parse(readFileSync(`reports/${f}`, "utf8"));
  passed += r.numPassedTests ?? 0;
  failed += r.numFailedTests ?? 0;
  skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
