// The parts of prom-client the daemon uses, each loaded alone. Its index loads all of it: Summary
// (with tdigest and bintrees), Pushgateway (with node:https and node:zlib), the cluster
// aggregation, none of which the daemon calls; and whatever a module loads stays in the daemon's
// heap for its whole life, compiled code and source text (docs/performance.md). Types are the
// index's (prom-client-parts.d.ts).
export { default as Registry } from "prom-client/lib/registry.js";
export { default as Counter } from "prom-client/lib/counter.js";
export { default as Gauge } from "prom-client/lib/gauge.js";
export { default as Histogram } from "prom-client/lib/histogram.js";
export { default as collectDefaultMetrics } from "prom-client/lib/defaultMetrics.js";
