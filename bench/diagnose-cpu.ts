// Worker for section 4 while no daemon is measured: runs `diagnose` over every target of a config
// file in this process, `rounds` times after one warm-up, and prints CPU and RSS as one JSON line.
// Targets run 4 at a time, as the daemon's default maxConcurrentTargets does: 16 checks in flight.
import { resolveSettings } from "../src/config/load.js";
import { readConfigFile } from "../src/config/file.js";
import { diagnose } from "../src/diagnose/run.js";

const [file, roundsArg] = process.argv.slice(2);
if (!file) throw new Error("usage: diagnose-cpu CONFIG [ROUNDS]");
const rounds = Number(roundsArg ?? 5);
const settings = resolveSettings({}, {}, readConfigFile(file));
const opts = { concurrency: settings.concurrency };
const AT_ONCE = 4;

async function round(): Promise<void> {
  for (let i = 0; i < settings.targets.length; i += AT_ONCE) {
    const report = await diagnose(settings.targets.slice(i, i + AT_ONCE), opts);
    if (report.verdict !== "healthy")
      throw new Error(`diagnose: ${report.verdict}, expected healthy`);
  }
}

await round();
const before = process.cpuUsage();
const started = performance.now();
for (let i = 0; i < rounds; i++) await round();
const cpu = process.cpuUsage(before);
process.stdout.write(
  JSON.stringify({
    targets: settings.targets.length,
    rounds,
    cpuMs: (cpu.user + cpu.system) / 1000,
    wallMs: performance.now() - started,
    rssMiB: process.memoryUsage().rss / 2 ** 20,
  }) + "\n",
);
