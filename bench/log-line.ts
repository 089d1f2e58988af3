// The daemon's run line, logged 50 000 times to /dev/null: CPU per line and bytes allocated per
// line (V8's sampling heap profiler, collected objects included), through the shipped logger and
// through pino's own `redact` option with the same paths (what the logger used before).
//   npm run bench:log
import { openSync } from "node:fs";
import { Session } from "node:inspector/promises";
import pino, { type Logger } from "pino";
import { createLogger, REDACT_PATHS } from "../src/log.js";

const LINES = 50_000;
const devNull = () => openSync("/dev/null", "w");
const runLine = () => ({
  event: "run",
  target: "orders-prod",
  verdict: "healthy",
  primaryCause: null,
  layer: null,
  findings: 9,
  failed: 0,
  unfinished: 0,
  durationMs: 12.5,
});

const loggers: [string, () => Logger][] = [
  ["shipped (redactSecrets)", () => createLogger({ level: "info", destination: devNull() })],
  [
    "pino redact option",
    () =>
      pino(
        {
          name: "apigw-diag",
          level: "info",
          base: { pid: process.pid },
          redact: { paths: REDACT_PATHS, censor: "[REDACTED]" },
          timestamp: pino.stdTimeFunctions.isoTime,
        },
        pino.destination({ dest: devNull(), sync: true }),
      ),
  ],
];

const session = new Session();
session.connect();
await session.post("HeapProfiler.enable");

interface SamplingNode {
  selfSize: number;
  children: SamplingNode[];
}
const total = (n: SamplingNode): number => n.children.reduce((t, c) => t + total(c), n.selfSize);

async function bytesPerLine(log: Logger, lines: number): Promise<number> {
  await session.post("HeapProfiler.startSampling", {
    samplingInterval: 512,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  for (let i = 0; i < lines; i++) log.info(runLine(), "orders-prod: healthy");
  const { profile } = await session.post("HeapProfiler.stopSampling");
  return total(profile.head as SamplingNode) / lines;
}

console.log(`log line: node ${process.version}, ${LINES} run lines per round, two rounds`);
for (let round = 0; round < 2; round++)
  for (const [name, make] of loggers) {
    const log = make();
    for (let i = 0; i < 5_000; i++) log.info(runLine(), "orders-prod: healthy"); // warm-up
    const before = process.cpuUsage();
    for (let i = 0; i < LINES; i++) log.info(runLine(), "orders-prod: healthy");
    const cpu = process.cpuUsage(before);
    const us = (cpu.user + cpu.system) / LINES;
    const bytes = await bytesPerLine(log, 10_000);
    console.log(
      `${name.padEnd(26)} ${us.toFixed(2).padStart(6)} µs CPU/line  ${bytes.toFixed(0).padStart(6)} bytes/line`,
    );
  }
session.disconnect();
