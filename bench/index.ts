// `npm run bench`: apigw-diag side by side with the tools it replaces or stands beside, against
// the same simulated endpoint (2 addresses x 2 stages). Prints figures, ratios and goals.
//   npm run bench -- [--reps N] [--timeout SECONDS] [--only healthy,blackhole,coldstart,cpu,flags]
//                    [--daemon-window SECONDS] [--flag-rounds N] [--node FILE] [--keep-extra-ca]
// Section 5 (flags: what each of the container's daemon settings buys) runs only when named.
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { blackHole } from "./blackhole.js";
import { coldStart } from "./coldstart.js";
import { cpu, flagWorth } from "./cpu.js";
import { healthy } from "./healthy.js";
import { APT_HINT, missing, ownCacheHome, useNode, withoutExtraCa, type Figure } from "./lib.js";

const { values } = parseArgs({
  options: {
    reps: { type: "string", default: "15" },
    timeout: { type: "string", default: "1" },
    only: { type: "string", default: "healthy,blackhole,coldstart,cpu" },
    // The shipped daemon's window: until 10k target runs or this many seconds.
    "daemon-window": { type: "string", default: "150" },
    "flag-rounds": { type: "string", default: "2" },
    // Another node for what is measured (the container's line, say); the yardsticks stay.
    node: { type: "string" },
    "keep-extra-ca": { type: "boolean", default: false },
  },
});
const reps = Number(values.reps);
const timeout = Number(values.timeout);
const only = new Set(values.only.split(","));

const need: Record<string, string[]> = {
  healthy: ["dig", "curl"],
  blackhole: ["dig", "curl", "ip", "iptables"],
  coldstart: [],
  cpu: [],
  flags: [],
};
const absent = missing([...new Set([...only].flatMap((s) => need[s] ?? []))]);
const blackboxAbsent = missing(["prometheus-blackbox-exporter"]).length > 0;
if (absent.length) {
  process.stderr.write(`bench: missing ${absent.join(", ")} (Debian: ${APT_HINT})\n`);
  process.exit(3);
}
if (only.has("cpu") && blackboxAbsent)
  process.stderr.write(
    `bench: prometheus-blackbox-exporter missing: section 4 runs without its yardstick (${APT_HINT})\n`,
  );

const figures: Figure[] = [];
const run = async (name: string, what: string, section: () => Promise<Figure[]>) => {
  if (!only.has(name)) return;
  process.stderr.write(`bench: ${what}...\n`);
  const got = await section();
  print(got);
  process.stdout.write(`${"".padEnd(11)} load average after it: ${load()}\n`);
  figures.push(...got);
};

function print(rows: Figure[]): void {
  for (const f of rows) {
    const verdict = f.met === undefined ? "" : f.met ? "  met" : "  NOT MET";
    const goal = f.goal ? `  goal ${f.goal}${verdict}` : "";
    const note = f.note ? `  (${f.note})` : "";
    process.stdout.write(
      `${f.section.padEnd(11)} ${f.label.padEnd(44)} ${f.value.padStart(10)}${goal}${note}\n`,
    );
  }
}

// The host is shared: its load says how far apart two runs' figures may be.
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");
let nodeVersion = process.version;
try {
  if (values.node) nodeVersion = useNode(values.node);
} catch (err) {
  process.stderr.write(`bench: ${(err as Error).message}\n`);
  process.exit(3);
}
const unset = withoutExtraCa(values["keep-extra-ca"]);
ownCacheHome();
process.stdout.write(
  `apigw-diag bench: node ${nodeVersion}, ${reps} repetitions, medians; load average ${load()}\n`,
);
if (unset)
  process.stdout.write(
    `${"".padEnd(11)} NODE_EXTRA_CA_CERTS (${unset}) unset for what the bench starts: Node 20 reads it at every start (--keep-extra-ca keeps it)\n`,
  );
else if (process.env.NODE_EXTRA_CA_CERTS)
  process.stdout.write(`${"".padEnd(11)} NODE_EXTRA_CA_CERTS kept: every node started reads it\n`);
await run("healthy", "1. healthy endpoint, diagnose vs dig + curl", () => healthy(reps));
await run("blackhole", "2. every address drops TCP/443", () =>
  blackHole(Math.max(3, Math.ceil(reps / 5)), timeout),
);
await run("coldstart", "3. cold start", () => coldStart(reps * 2));
await run("cpu", "4. CPU and RSS at 100 targets", () =>
  cpu(3, !blackboxAbsent, Number(values["daemon-window"])),
);
await run("flags", "5. what each of the container's daemon settings buys", () =>
  flagWorth(Number(values["flag-rounds"])),
);
const unmet = figures.filter((f) => f.met === false).length;
process.stdout.write(
  `${figures.filter((f) => f.met !== undefined).length - unmet} goals met, ${unmet} not met\n`,
);
