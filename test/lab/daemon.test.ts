// The daemon in the lab: its /metrics and /probe name the one Availability Zone whose ENI drops
// SYN, with its code; and a real Prometheus (Debian's package), configured from
// deploy/prometheus/prometheus-probe.yml's relabelling, scrapes /probe. Everything runs inside
// the lab's namespaces: the daemon and Prometheus on the on-prem host's loopback.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parse, stringify } from "yaml";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseMetrics, pick, valueOf, type Sample } from "../daemon/helpers.js";
import {
  ADDR,
  API_ID,
  ENDPOINT,
  Lab,
  REPO_ROOT,
  STAGES,
  checkSupport,
  startEndpoint,
  startInNamespace,
  startResolver,
  stopProcess,
  type Started,
} from "./lab.js";

const support = checkSupport();
const inCi = process.env.CI === "true";
const hasPrometheus = spawnSync("prometheus", ["--version"], { stdio: "ignore" }).status === 0;
const DAEMON_PORT = 9464;
const PROMETHEUS_PORT = 9090;
const JOB = "apigw-diag-probe";

if (support.ok && !hasPrometheus) {
  console.error(
    `\n!! LAB: no prometheus binary: the scrape of /probe by a real Prometheus ${
      inCi ? "FAILS (CI=true)" : "is skipped (apt-get install prometheus; .ci/lab.sh does)"
    }\n`,
  );
}

/** GET from inside a namespace (the daemon and Prometheus listen on its loopback). */
function fetchIn(
  ns: string,
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  const script = `
    fetch(${JSON.stringify(url)}, { headers: ${JSON.stringify(headers)}, signal: AbortSignal.timeout(20000) })
      .then(async (r) => process.stdout.write(JSON.stringify({ status: r.status, body: await r.text() })))
      .catch((e) => { console.error(e.message); process.exit(1); });`;
  const child = spawn("ip", ["netns", "exec", ns, process.execPath, "-e", script], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr.on("data", (c: Buffer) => (err += c.toString()));
  return new Promise((resolve, reject) =>
    child.on("close", (code) =>
      code === 0
        ? resolve(JSON.parse(out) as { status: number; body: string })
        : reject(new Error(`GET ${url} in ${ns}: ${err.trim()}`)),
    ),
  );
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The example scrape config, pointed at this lab: only the target, module and daemon change. */
function prometheusConfig(): string {
  const config = parse(
    readFileSync(path.join(REPO_ROOT, "deploy/prometheus/prometheus-probe.yml"), "utf8"),
  ) as {
    global: Record<string, string>;
    scrape_configs: {
      scheme?: string;
      tls_config?: unknown;
      basic_auth?: unknown;
      scrape_interval: string;
      scrape_timeout: string;
      static_configs: unknown[];
      relabel_configs: { target_label: string; replacement?: string }[];
    }[];
  };
  const job = config.scrape_configs[0]!;
  config.global.scrape_interval = "5s";
  job.scrape_interval = "5s";
  job.scrape_timeout = "4s"; // a black hole costs one 2 s timeout
  job.static_configs = [{ targets: [ENDPOINT], labels: { module: "lab" } }];
  // The lab's daemon has no web config: plain HTTP, no auth (the door has tests of its own, with
  // this same Prometheus: test/daemon/door-clients.test.ts).
  delete job.scheme;
  delete job.tls_config;
  delete job.basic_auth;
  const daemon = job.relabel_configs.find((r) => r.target_label === "__address__");
  if (!daemon) throw new Error("the example has no __address__ relabelling");
  daemon.replacement = `127.0.0.1:${DAEMON_PORT}`;
  return stringify(config);
}

interface Vector {
  metric: Record<string, string>;
  value: [number, string];
}

describe.skipIf(!support.ok)("network lab: the daemon's /metrics and /probe, scraped", () => {
  const lab = new Lab();
  const started: Started[] = [];
  let prometheus: ChildProcess | undefined;
  const downOnExit = (): void => lab.down();
  const onprem = () => lab.ns("onprem");

  const probe = async () => {
    const res = await fetchIn(
      onprem(),
      `http://127.0.0.1:${DAEMON_PORT}/probe?module=lab&target=${ENDPOINT}`,
      { "X-Prometheus-Scrape-Timeout-Seconds": "10" },
    );
    expect(res.status, res.body).toBe(200);
    return parseMetrics(res.body);
  };
  const metrics = async () =>
    parseMetrics((await fetchIn(onprem(), `http://127.0.0.1:${DAEMON_PORT}/metrics`)).body);
  const query = async (promql: string): Promise<Vector[]> => {
    const url = `http://127.0.0.1:${PROMETHEUS_PORT}/api/v1/query?query=${encodeURIComponent(promql)}`;
    const res = await fetchIn(onprem(), url);
    const doc = JSON.parse(res.body) as { status: string; data: { result: Vector[] } };
    if (doc.status !== "success") throw new Error(res.body);
    return doc.data.result;
  };

  beforeAll(async () => {
    process.once("exit", downOnExit);
    lab.up();
    started.push(await startResolver(lab));
    const simulator = await startEndpoint(lab);
    started.push(simulator);
    // The system resolver of the on-prem host (its resolv.conf) is the lab's resolver.
    const config = path.join(lab.dir, "daemon.yaml");
    writeFileSync(
      config,
      stringify({
        timeout: "2s",
        caFile: String(simulator.ready.caFile),
        compareOs: false,
        daemon: { interval: "1s", listen: `127.0.0.1:${DAEMON_PORT}` },
        targets: [{ name: "lab", endpoint: ENDPOINT, apiId: API_ID, stages: [...STAGES] }],
        modules: { lab: { apiId: API_ID, stages: [...STAGES] } },
      }),
    );
    started.push(
      await startInNamespace(
        onprem(),
        path.join(REPO_ROOT, "dist", "cli.js"),
        ["daemon", "--config", config],
        30_000,
        (line) => line.event === "listening",
      ),
    );
  }, 120_000);

  afterEach(() => lab.reset());

  afterAll(async () => {
    if (prometheus) await stopProcess(prometheus);
    for (const s of started.reverse()) await stopProcess(s.child);
    lab.down();
    process.removeListener("exit", downOnExit);
  });

  const expectSynDropNamed = (samples: Sample[], where: string): void => {
    const failures = pick(samples, "apigw_diag_address_failure").map((s) => s.labels);
    expect(failures.map((l) => [l.address, l.stage, l.layer, l.code]).sort(), where).toEqual(
      STAGES.map((stage) => [ADDR.endpointB, stage, "tcp", "TCP_TIMEOUT"]).sort(),
    );
    for (const stage of STAGES) {
      const at = (address: string) =>
        valueOf(samples, "apigw_diag_probe_success", { stage, address });
      expect(at(ADDR.endpointA), where).toBe(1);
      expect(at(ADDR.endpointB), where).toBe(0);
    }
  };

  it("names the AZ whose ENI drops SYN, and its code, in /probe and /metrics", async () => {
    lab.fault("sg-drop-one");
    const answered = await probe();
    expectSynDropNamed(answered, "/probe");
    expect(valueOf(answered, "probe_success", {})).toBe(0);
    expect(pick(answered, "apigw_diag_address_failure")[0]?.labels.target).toBe(ENDPOINT);
    // /metrics shows it once a run that started after the fault has finished.
    const scraped = await eventually("the SYN drop in /metrics", async () => {
      const s = await metrics();
      return pick(s, "apigw_diag_address_failure").length > 0 ? s : undefined;
    });
    expectSynDropNamed(scraped, "/metrics");
    expect(pick(scraped, "apigw_diag_address_failure")[0]?.labels.target).toBe("lab");
  });

  it.skipIf(!hasPrometheus && !inCi)(
    "is scraped by Prometheus through the example's relabelling (promtool-checked)",
    async () => {
      expect(hasPrometheus, "prometheus is required when CI=true").toBe(true);
      const dir = path.join(lab.dir, "prometheus");
      mkdirSync(path.join(dir, "data"), { recursive: true });
      const file = path.join(dir, "prometheus.yml");
      writeFileSync(file, prometheusConfig());
      const check = spawnSync("promtool", ["check", "config", file], { encoding: "utf8" });
      expect(check.status, `${check.stdout}${check.stderr}`).toBe(0);
      prometheus = spawn(
        "ip",
        [
          "netns",
          "exec",
          onprem(),
          "prometheus",
          `--config.file=${file}`,
          `--storage.tsdb.path=${path.join(dir, "data")}`,
          `--web.listen-address=127.0.0.1:${PROMETHEUS_PORT}`,
        ],
        { stdio: "ignore" },
      );
      const up = await eventually("Prometheus' first scrape of /probe", async () => {
        const r = await query(`up{job="${JOB}"}`);
        return r.length > 0 ? r : undefined;
      });
      // instance is the endpoint (not the daemon), and module went along as ?module=.
      expect(up.map((v) => [v.metric.instance, v.metric.module, v.value[1]])).toEqual([
        [ENDPOINT, "lab", "1"],
      ]);
      const success = await query(`probe_success{job="${JOB}"}`);
      expect(success.map((v) => v.value[1])).toEqual(["1"]);

      lab.fault("sg-drop-one");
      const named = await eventually("the SYN drop in Prometheus", async () => {
        const r = await query(`apigw_diag_address_failure{job="${JOB}"} == 1`);
        return r.length > 0 ? r : undefined;
      });
      expect(
        named.map((v) => [v.metric.instance, v.metric.address, v.metric.code, v.metric.stage]),
      ).toEqual(
        expect.arrayContaining(
          STAGES.map((stage) => [ENDPOINT, ADDR.endpointB, "TCP_TIMEOUT", stage]),
        ),
      );
    },
    90_000,
  );
});
