// A registry's text exposition, the same bytes as prom-client's `registry.metrics()`, written in
// pieces. prom-client builds the whole answer as one string, after an object and a string per
// line: at 100 targets 706 KB, 598 KB of it the phase histogram's 7 500 lines, and with the
// daemon's 1 MiB semi-space much of that outlives a scavenge and is promoted
// (docs/performance.md). Here a histogram is read into one array of numbers and written a series
// at a time. The reading of prom-client's histogram storage is pinned by a differential test
// against `registry.metrics()` (test/daemon/exposition.test.ts).
import { Histogram, Registry } from "./prom.js";

/** About this many characters per piece: the socket's own high-water mark. */
export const PIECE_CHARS = 16 * 1024;

type LabelValue = string | number;

/** One series as prom-client's Histogram keeps it (lib/histogram.js, createBaseValues). */
interface StoredSeries {
  labels: Record<string, LabelValue>;
  bucketValues: Record<string, number>;
  sum: number;
  count: number;
}

/** The fields of a prom-client Histogram read here (lib/histogram.js). */
interface StoredHistogram {
  name: string;
  help: string;
  upperBounds: readonly LabelValue[];
  hashMap: Record<string, StoredSeries>;
  enableExemplars: boolean;
  collect?: () => unknown;
}

/** Every value of a histogram at one moment; its text is written from this later. */
interface HistogramNumbers {
  name: string;
  help: string;
  /** `le="…"` of each bucket, +Inf last. */
  bounds: string[];
  series: Record<string, LabelValue>[];
  /** Per series: cumulative bucket counts (+Inf included), then sum, then count. */
  values: Float64Array;
}

type Part = string | HistogramNumbers;

/**
 * Reads every metric as `registry.metrics()` does (every collect at once, so the answer is one
 * moment); resolves with the text to write, produced piece by piece as it is iterated.
 */
export async function exposition(registry: Registry): Promise<Iterable<string>> {
  if (registry.contentType !== Registry.PROMETHEUS_CONTENT_TYPE || hasDefaultLabels(registry))
    return [await registry.metrics()];
  const parts = await Promise.all(
    registry.getMetricsAsArray().map((metric): Promise<Part> => {
      const stored = storedHistogram(metric);
      return stored ? readHistogram(stored) : registry.getSingleMetricAsString(metric.name);
    }),
  );
  return pieces(parts);
}

function hasDefaultLabels(registry: Registry): boolean {
  const labels = (registry as unknown as { _defaultLabels?: object })._defaultLabels;
  return labels !== undefined && Object.keys(labels).length > 0;
}

/** A histogram whose text is its own (no exemplars), else undefined: prom-client renders it. */
function storedHistogram(metric: unknown): StoredHistogram | undefined {
  if (!(metric instanceof Histogram)) return undefined;
  const stored = metric as unknown as StoredHistogram;
  return stored.enableExemplars ? undefined : stored;
}

async function readHistogram(h: StoredHistogram): Promise<HistogramNumbers> {
  if (h.collect) {
    const pending = h.collect();
    if (pending instanceof Promise) await pending;
  }
  const series = Object.values(h.hashMap);
  const stride = h.upperBounds.length + 3;
  const values = new Float64Array(series.length * stride);
  series.forEach((s, i) => {
    let at = i * stride;
    let acc = 0;
    for (const bound of h.upperBounds) values[at++] = acc += s.bucketValues[bound]!;
    values[at++] = s.count;
    values[at++] = s.sum;
    values[at] = s.count;
  });
  return {
    name: h.name,
    help: h.help,
    bounds: [...h.upperBounds, "+Inf"].map((b) => `le="${labelValue(b)}"`),
    series: series.map((s) => s.labels),
    values,
  };
}

/** The parts joined as prom-client joins them, cut into pieces of about PIECE_CHARS. */
function* pieces(parts: Part[]): Generator<string> {
  if (parts.length === 0) {
    yield "\n";
    return;
  }
  let out = "";
  for (const [i, part] of parts.entries()) {
    if (i > 0) out += "\n";
    if (typeof part === "string") out += `${part}\n`;
    else {
      out += `# HELP ${escape(part.name)} ${escape(part.help)}\n# TYPE ${escape(part.name)} histogram\n`;
      for (let s = 0; s < part.series.length; s++) {
        out += seriesLines(part, s);
        if (out.length >= PIECE_CHARS) {
          yield out;
          out = "";
        }
      }
    }
    if (out.length >= PIECE_CHARS) {
      yield out;
      out = "";
    }
  }
  if (out) yield out;
}

function seriesLines(h: HistogramNumbers, s: number): string {
  const labels = formatLabels(h.series[s]!);
  const stride = h.bounds.length + 2;
  let at = s * stride;
  const bucket = `${h.name}_bucket{`;
  const rest = labels ? `,${labels}} ` : "} ";
  let out = "";
  for (const le of h.bounds) out += `${bucket}${le}${rest}${value(h.values[at++]!)}\n`;
  const braced = labels ? `{${labels}} ` : " ";
  out += `${h.name}_sum${braced}${value(h.values[at++]!)}\n`;
  out += `${h.name}_count${braced}${value(h.values[at]!)}\n`;
  return out;
}

// The formatting below is prom-client's (lib/registry.js formatLabels, escapeLabelValue,
// escapeString; lib/util.js getValueAsString), character for character.

function formatLabels(labels: Record<string, LabelValue>): string {
  return Object.entries(labels)
    .map(([name, v]) => `${name}="${labelValue(v)}"`)
    .join(",");
}

function labelValue(v: LabelValue): LabelValue {
  return typeof v === "string" ? escape(v).replace(/"/g, '\\"') : v;
}

function escape(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function value(v: number): string {
  if (Number.isNaN(v)) return "Nan";
  if (!Number.isFinite(v)) return v < 0 ? "-Inf" : "+Inf";
  return `${v}`;
}
