// One /metrics answer at 100 targets (2 addresses x 2 stages each), made as the daemon made it
// before (prom-client's registry.metrics(): one string, its length, then written) and as it does
// now (DaemonMetrics.render(): exposition()'s pieces, each written), in turn on the same
// registry: CPU and collections per answer. Run under the daemon's node flags (the Dockerfile's):
//   npx esbuild bench/metrics-render.ts --bundle --platform=node --format=esm \
//     --packages=external --outdir=bench/.out --log-level=warning &&
//   node --max-semi-space-size=1 --heap-growing-percent=20 --no-sparkplug --v8-pool-size=1 \
//     bench/.out/metrics-render.js
import { PerformanceObserver } from "node:perf_hooks";
import { DaemonMetrics } from "../src/daemon/metrics.js";
import type { Finding, TargetReport } from "../src/types.js";

const TARGETS = 100;
const RUNS = 20;
const BATCH = 40;
const ROUNDS = 9;

function report(name: string, run: number): TargetReport {
  const ms = (base: number) => base * (1 + ((run * 7 + name.length) % 13) / 10);
  const timings = { dns: ms(1.3), connect: ms(0.4), tls: ms(6.1), ttfb: ms(2.2), total: ms(9.7) };
  const common = { status: "pass", message: "m", hint: "h", timings } as const;
  const findings: Finding[] = [{ ...common, layer: "dns", code: "DNS_OK", evidence: {} }];
  for (const address of ["10.0.0.1", "10.0.0.2"]) {
    findings.push({ ...common, layer: "tcp", code: "TCP_OK", address, evidence: { port: 443 } });
    findings.push({
      ...common,
      layer: "tls",
      code: "TLS_OK",
      address,
      evidence: { servername: "s" },
    });
    for (const stage of ["prod", "v2"])
      findings.push({
        ...common,
        layer: "http",
        code: "HTTP_OK",
        address,
        stage,
        evidence: { request: "GET /" },
      });
  }
  return {
    name,
    endpoint: "vpce-0123456789abcdef-abcd1234.execute-api.us-east-1.vpce.amazonaws.com",
    apiId: "a1b2c3d4e5",
    mode: "header",
    stages: ["prod", "v2"],
    addresses: ["10.0.0.1", "10.0.0.2"],
    verdict: "healthy",
    primaryCause: null,
    skipped: [],
    unfinished: [],
    insecure: false,
    comparisonRequests: 0,
    durationMs: 12,
    findings,
  };
}

const m = new DaemonMetrics();
for (let run = 0; run < RUNS; run++)
  for (let t = 0; t < TARGETS; t++) m.record(report(`target-${t}`, run), Date.now());

let sink = 0;
const whole = async () => {
  const body = await m.registry.metrics();
  sink += Buffer.byteLength(body) + Buffer.from(body).length;
};
const pieces = async () => {
  for (const piece of await m.render()) sink += Buffer.from(piece).length;
};

const gcs = { minor: 0, major: 0 };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
    if (kind === 1) gcs.minor++;
    else gcs.major++;
  }
}).observe({ entryTypes: ["gc"] });

async function batch(render: () => Promise<void>): Promise<{ ms: number; minor: number }> {
  const before = { ...gcs };
  const cpu = process.cpuUsage();
  for (let i = 0; i < BATCH; i++) await render();
  const used = process.cpuUsage(cpu);
  // GC entries arrive on a later tick.
  await new Promise((r) => setTimeout(r, 20));
  return {
    ms: (used.user + used.system) / 1000 / BATCH,
    minor: (gcs.minor - before.minor) / BATCH,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const size = Buffer.byteLength(await m.registry.metrics());
await batch(whole);
await batch(pieces);
const results = { whole: [] as number[], pieces: [] as number[] };
const minors = { whole: [] as number[], pieces: [] as number[] };
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, render] of [
    ["whole", whole],
    ["pieces", pieces],
  ] as const) {
    const r = await batch(render);
    results[name].push(r.ms);
    minors[name].push(r.minor);
  }
}
console.log(`node ${process.version}; ${TARGETS} targets; answer ${size} bytes; sink ${sink > 0}`);
for (const name of ["whole", "pieces"] as const)
  console.log(
    `${name.padEnd(7)} CPU ms per answer median ${median(results[name]).toFixed(2)} ` +
      `(${Math.min(...results[name]).toFixed(2)}-${Math.max(...results[name]).toFixed(2)}), ` +
      `scavenges per answer ${median(minors[name]).toFixed(2)}`,
  );
