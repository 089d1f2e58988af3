// The parts of prom-client the daemon uses, from its documented index.
export { Registry, Counter, Gauge, Histogram, collectDefaultMetrics } from "prom-client";
