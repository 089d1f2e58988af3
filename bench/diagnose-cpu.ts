// Worker for section 4 while no daemon is measured: runs `diagnose` over every target of a config
// file in this process, `rounds` times after one warm-up, and prints CPU and RSS as one JSON line.
import { readConfigFile, resolveSettings } from "../src/config/load.js";
import { diagnose } from "../src/diagnose/run.js";

const [file, roundsArg] = process.argv.slice(2);
if (!file) throw new Error("usage: diagnose-cpu CONFIG [ROUNDS]");
const rounds = Number(roundsArg ?? 5);
const settings = resolveSettings({}, {}, readConfigFile(file));
const opts = { concurrency: settings.concurrency };

const check = (verdict: string) => {
  if (verdict !== "healthy") throw new Error(`diagnose: ${verdict}, expected healthy`);
};
check((await diagnose(settings.targets, opts)).verdict);
const before = process.cpuUsage();
const started = performance.now();
for (let i = 0; i < rounds; i++) check((await diagnose(settings.targets, opts)).verdict);
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
