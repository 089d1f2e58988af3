// Summarizes a V8 profile the way docs/performance.md quotes it:
//   a .heapsnapshot (node --heapsnapshot-signal=SIGUSR2 ...): live bytes by kind and constructor;
//   a .cpuprofile (node --cpu-prof ...): self time by function and by script.
// Run: npx esbuild bench/profile-summary.ts --bundle --platform=node --format=esm \
//        --outfile=bench/.out/profile-summary.js && node bench/.out/profile-summary.js FILE [TOP]
import { readFileSync } from "node:fs";

const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error("usage: profile-summary FILE.heapsnapshot|FILE.cpuprofile [TOP]");
const top = Number(topArg ?? 25);
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(2).padStart(8);
const ms = (us: number) => (us / 1000).toFixed(0).padStart(7);

function rank(totals: Map<string, number>, show: (v: number) => string): void {
  for (const [k, v] of [...totals].sort((a, b) => b[1] - a[1]).slice(0, top))
    process.stdout.write(`${show(v)}  ${k}\n`);
}

const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);

interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

const data = JSON.parse(readFileSync(file, "utf8")) as HeapSnapshot | CpuProfile;
if ("snapshot" in data) {
  const fields = data.snapshot.meta.node_fields;
  const [type, name, self] = ["type", "name", "self_size"].map((f) => fields.indexOf(f)) as [
    number,
    number,
    number,
  ];
  const kinds = data.snapshot.meta.node_types[0];
  const byKind = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < data.nodes.length; i += fields.length) {
    const kind = kinds[data.nodes[i + type] ?? 0] ?? "?";
    const size = data.nodes[i + self] ?? 0;
    const label =
      kind === "object" || kind === "native"
        ? `${kind} ${data.strings[data.nodes[i + name] ?? 0]}`
        : kind;
    add(byKind, label, size);
    total += size;
  }
  process.stdout.write(`live heap ${mib(total).trim()} MiB\n`);
  rank(byKind, mib);
} else {
  const byId = new Map(data.nodes.map((n) => [n.id, n.callFrame]));
  const byFunction = new Map<string, number>();
  const byScript = new Map<string, number>();
  let total = 0;
  data.samples.forEach((id, i) => {
    const frame = byId.get(id);
    const us = data.timeDeltas[i] ?? 0;
    if (!frame) return;
    const script = frame.url.split("/").pop() || frame.functionName;
    add(byScript, script, us);
    add(byFunction, `${frame.functionName || "(anonymous)"} ${script}:${frame.lineNumber}`, us);
    total += us;
  });
  process.stdout.write(`profile ${ms(total).trim()} ms (idle included)\n-- by script\n`);
  rank(byScript, ms);
  process.stdout.write("-- by function (self time)\n");
  rank(byFunction, ms);
}
