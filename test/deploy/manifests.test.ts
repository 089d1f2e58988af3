// The fleet pieces agree with the agent and with each other: the example config loads, the
// DaemonSet keeps the promises the image makes (non-root, read-only root, /healthz on 9464), and
// the dashboard and alerts only ask for metrics the daemon exports.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { resolveSettings } from "../../src/config/load.js";
import { parseConfigText } from "../../src/config/file.js";

const read = (file: string) => readFileSync(new URL(`../../${file}`, import.meta.url), "utf8");

// The names the daemon exports (docs/design.md, "Metrics"), plus prom-client's process metrics.
const METRICS = new Set([
  "apigw_diag_probe_success",
  "apigw_diag_address_failure",
  "apigw_diag_target_verdict",
  "apigw_diag_finding",
  "apigw_diag_phase_duration_seconds_bucket",
  "apigw_diag_last_run_timestamp_seconds",
  "apigw_diag_runs_total",
  "process_cpu_seconds_total",
  "process_resident_memory_bytes",
  "up",
]);
const PROMQL_WORDS = new Set([
  "and",
  "or",
  "unless",
  "by",
  "without",
  "on",
  "ignoring",
  "bool",
  "le",
  "vector",
  "time",
  "count",
  "sum",
  "max",
  "min",
  "rate",
  "absent",
  "histogram_quantile",
  "label_values",
]);

/** Identifiers in a PromQL expression that are neither labels, strings nor functions. */
function metricNames(expr: string): string[] {
  const noStrings = expr.replace(/"[^"]*"/g, '""').replace(/\{[^}]*\}/g, "{}");
  const noGroupings = noStrings.replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, "");
  const words = noGroupings.match(/[a-zA-Z_][a-zA-Z0-9_]*/g) ?? [];
  return words.filter((w) => !PROMQL_WORDS.has(w) && !w.startsWith("__"));
}

/** The two RFC 6902 operations the overlays use; `replace` needs the member to exist. */
function applyPatch(doc: unknown, op: { op: string; path: string; value: unknown }): void {
  const keys = op.path
    .split("/")
    .slice(1)
    .map((k) => k.replace(/~1/g, "/").replace(/~0/g, "~"));
  const last = keys.pop() as string;
  let node = doc as Record<string, unknown>;
  for (const key of keys) {
    expect(node, `${op.path}: no ${key}`).toHaveProperty([key]);
    node = node[key] as Record<string, unknown>;
  }
  if (op.op === "replace") expect(node, `${op.path}: nothing to replace`).toHaveProperty([last]);
  else expect(op.op).toBe("add");
  node[last] = op.value;
}

interface Container {
  args: string[];
  ports: { containerPort: number; name: string }[];
  resources: { limits: Record<string, string>; requests: Record<string, string> };
  securityContext: Record<string, unknown>;
  livenessProbe: { httpGet: { path: string; port: string } };
  readinessProbe: { httpGet: { path: string; port: string } };
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
}

describe("deploy/kubernetes", () => {
  const configMap = parse(read("deploy/kubernetes/configmap.yaml"));
  const ds = parse(read("deploy/kubernetes/daemonset.yaml"));
  const pod = ds.spec.template.spec;
  const container = pod.containers[0] as Container;

  it("ships an example config that the agent loads and validates", () => {
    const file = parseConfigText(configMap.data["config.yaml"], "configmap.yaml");
    const settings = resolveSettings({}, {}, file);
    expect(settings.targets.map((t) => t.name)).toEqual(["orders"]);
    expect(settings.daemon.listen).toEqual({ host: "0.0.0.0", port: 9464 });
  });

  it("runs the image's default command against the mounted ConfigMap", () => {
    const dockerfile = read("Dockerfile");
    expect(dockerfile).toContain(`CMD ${JSON.stringify(container.args).replace(/,/g, ", ")}`);
    const configMount = container.volumeMounts.find((m) => m.name === "config");
    expect(container.args).toContain(`${configMount?.mountPath}/config.yaml`);
    expect(configMount?.readOnly).toBe(true);
  });

  it("runs non-root on a read-only root with only /tmp writable", () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    expect(container.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    });
    const tmp = container.volumeMounts.find((m) => m.mountPath === "/tmp");
    expect(pod.volumes.find((v: { name: string }) => v.name === tmp?.name)).toHaveProperty(
      "emptyDir",
    );
  });

  it("limits resources and probes /healthz on the metrics port", () => {
    expect(Object.keys(container.resources.limits).sort()).toEqual(["cpu", "memory"]);
    expect(container.ports).toEqual([{ name: "metrics", containerPort: 9464, protocol: "TCP" }]);
    for (const probe of [container.livenessProbe, container.readinessProbe]) {
      expect(probe.httpGet).toEqual({ path: "/healthz", port: "metrics" });
    }
  });

  it("is scraped through the annotations the Kubernetes scrape config keeps", () => {
    expect(ds.spec.template.metadata.annotations).toEqual({
      "prometheus.io/scrape": "true",
      "prometheus.io/port": "9464",
      "prometheus.io/path": "/metrics",
    });
  });

  it("keeps host networking an opt-in overlay whose patches apply to the base", () => {
    expect(pod.hostNetwork).toBe(false);
    const overlay = parse(read("deploy/kubernetes/host-network/kustomization.yaml"));
    const namespace = parse(read("deploy/kubernetes/namespace.yaml"));
    const byKind: Record<string, unknown> = {
      DaemonSet: structuredClone(ds),
      Namespace: namespace,
    };
    for (const { target, patch } of overlay.patches) {
      for (const op of parse(patch)) applyPatch(byKind[target.kind], op);
    }
    const patched = byKind.DaemonSet as typeof ds;
    expect(patched.spec.template.spec).toMatchObject({ hostNetwork: true, dnsPolicy: "Default" });
    expect(namespace.metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("privileged");
  });
});

describe("deploy/prometheus and deploy/grafana", () => {
  it("alert on metrics the daemon exports, under the job apigw-diag", () => {
    const rules = parse(read("deploy/prometheus/alerts.yml")).groups[0].rules;
    expect(rules.map((r: { alert: string }) => r.alert)).toEqual(
      expect.arrayContaining([
        "ApigwDiagTargetFailing",
        "ApigwDiagTargetDegraded",
        "ApigwDiagAgentDown",
        "ApigwDiagNoRecentRuns",
      ]),
    );
    for (const rule of rules) {
      for (const name of metricNames(rule.expr)) expect(METRICS).toContain(name);
      expect(rule.expr).toContain('job="apigw-diag"');
    }
  });

  it("scrape under the job name the alerts use", () => {
    for (const file of ["prometheus.yml", "prometheus-kubernetes.yml"]) {
      const config = parse(read(`deploy/prometheus/${file}`));
      expect(config.scrape_configs.map((s: { job_name: string }) => s.job_name)).toEqual([
        "apigw-diag",
      ]);
    }
    const targets = parseAllDocuments(read("deploy/prometheus/targets/apigw-diag.yml"));
    expect(targets[0]?.toJS()[0].targets[0]).toMatch(/:9464$/);
  });

  it("probe endpoint names through /probe with blackbox's relabelling", () => {
    const config = parse(read("deploy/prometheus/prometheus-probe.yml"));
    const [job] = config.scrape_configs;
    expect(job.metrics_path).toBe("/probe");
    const relabel = job.relabel_configs as { source_labels?: string[]; target_label: string }[];
    expect(relabel.map((r) => [r.source_labels?.[0], r.target_label])).toEqual([
      ["__address__", "__param_target"],
      ["module", "__param_module"],
      ["__param_target", "instance"],
      [undefined, "__address__"],
    ]);
    for (const group of job.static_configs) {
      for (const endpoint of group.targets)
        expect(endpoint).toMatch(
          /^vpce-[0-9a-f]+-[0-9a-z]+\.execute-api\.[a-z0-9-]+\.vpce\.amazonaws\.com$/,
        );
      expect(group.labels.module).toMatch(/^[a-z]+$/);
    }
  });

  it("chart only metrics the daemon exports", () => {
    const dashboard = JSON.parse(read("deploy/grafana/dashboard.json"));
    const exprs: string[] = dashboard.panels.flatMap((p: { targets: { expr: string }[] }) =>
      p.targets.map((t) => t.expr),
    );
    expect(exprs.length).toBeGreaterThan(5);
    for (const expr of exprs) {
      const names = metricNames(expr.replace(/\$\w+/g, ""));
      for (const name of names) expect(METRICS).toContain(name);
    }
  });
});
