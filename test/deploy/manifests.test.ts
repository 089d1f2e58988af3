// The fleet pieces agree with the agent and with each other: the example config loads, the
// DaemonSet keeps the promises the image makes (non-root, read-only root, /healthz on 9464), and
// the dashboard and alerts only ask for metrics the daemon exports.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import bcrypt from "bcryptjs";
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { resolveSettings } from "../../src/config/load.js";
import { parseConfigText } from "../../src/config/file.js";
import { loadWebConfig } from "../../src/daemon/web-config.js";
import { hasPromtool, requirePromtool } from "../daemon/helpers.js";
import { doorPki } from "../daemon/door-certs.js";

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
  "group_left",
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

interface HttpGet {
  path: string;
  port: string;
  scheme?: string;
  httpHeaders?: { name: string; value: string }[];
}

interface Container {
  args: string[];
  ports: { containerPort: number; name: string }[];
  resources: { limits: Record<string, string>; requests: Record<string, string> };
  securityContext: Record<string, unknown>;
  livenessProbe: { httpGet: HttpGet };
  readinessProbe: { httpGet: HttpGet };
  env?: { name: string; value: string }[];
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
      expect(probe.httpGet).toMatchObject({ path: "/healthz", port: "metrics", scheme: "HTTPS" });
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

  it("tell one host's path from one AZ's side with rules on exported and recorded metrics", () => {
    const fleet = parse(read("deploy/prometheus/alerts.yml")).groups.find(
      (g: { name: string }) => g.name === "apigw-diag-fleet",
    );
    const rules = fleet.rules as { record?: string; alert?: string; expr: string }[];
    expect(rules.filter((r) => r.alert).map((r) => r.alert)).toEqual([
      "ApigwDiagAzSideFailing",
      "ApigwDiagHostPathFailing",
    ]);
    const recorded: string[] = [];
    for (const rule of rules) {
      // A recorded name is used only after the rule that records it, in the same group.
      const own = rule.expr.match(/[a-z_]+:[a-z_]+:[a-z_]+/g) ?? [];
      for (const name of own) expect(recorded).toContain(name);
      const raw = metricNames(rule.expr.replace(/[a-z_]+:[a-z_]+:[a-z_]+/g, ""));
      for (const name of raw) expect(METRICS).toContain(name);
      if (raw.length > 0) expect(rule.expr).toContain('job="apigw-diag"');
      if (rule.record) recorded.push(rule.record);
    }
    expect(recorded).toHaveLength(3);
  });

  it.skipIf(!hasPromtool && !requirePromtool)(
    "pass promtool's rule check and unit tests (alerts.test.yml)",
    () => {
      const dir = new URL("../../deploy/prometheus/", import.meta.url).pathname;
      for (const args of [
        ["check", "rules", "alerts.yml"],
        ["test", "rules", "alerts.test.yml"],
      ]) {
        const run = spawnSync("promtool", args, { cwd: dir, encoding: "utf8", timeout: 60_000 });
        expect(run.error).toBeUndefined();
        expect(`${run.stdout}${run.stderr}`).toContain("SUCCESS");
        expect(run.status).toBe(0);
      }
    },
  );

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

describe("the daemon's door in deploy/", () => {
  const ds = parse(read("deploy/kubernetes/daemonset.yaml"));
  const pod = ds.spec.template.spec;
  const container = pod.containers[0] as Container;
  const secret = parse(read("deploy/kubernetes/web-config.yaml"));
  const webYaml: string = secret.stringData["web-config.yml"];
  const hashes = parse(webYaml).basic_auth_users as Record<string, string>;

  it("ships a web config that the agent and promtool load, its TLS files beside it", async () => {
    const pki = doorPki();
    try {
      pki.write("tls.crt", pki.server.certPem);
      pki.write("tls.key", pki.server.keyPem);
      const file = pki.write("web-config.yml", webYaml);
      const web = await loadWebConfig(file);
      expect(web.tls?.clientAuth).toBe("NoClientCert");
      expect([...web.users.keys()].sort()).toEqual(["kubelet", "prometheus"]);
      if (hasPromtool || requirePromtool) {
        const r = spawnSync("promtool", ["check", "web-config", file], { encoding: "utf8" });
        expect(r.status, r.stdout + r.stderr).toBe(0);
      }
    } finally {
      pki.remove();
    }
  });

  it("mounts the web config with the TLS Secret beside it, and names it to the agent", () => {
    const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value]));
    const mount = container.volumeMounts.find((m) => m.name === "web");
    expect(mount?.readOnly).toBe(true);
    expect(env.APIGW_DIAG_WEB_CONFIG).toBe(`${mount?.mountPath}/web-config.yml`);
    const volume = pod.volumes.find((v: { name: string }) => v.name === "web");
    const files = volume.projected.sources.flatMap(
      (s: { secret: { name: string; items: { key: string; path: string }[] } }) =>
        s.secret.items.map((i) => `${s.secret.name}:${i.path}`),
    );
    expect(files.sort()).toEqual([
      "apigw-diag-tls:tls.crt",
      "apigw-diag-tls:tls.key",
      `${secret.metadata.name}:web-config.yml`,
    ]);
    expect(parse(read("deploy/kubernetes/kustomization.yaml")).resources).toContain(
      "web-config.yaml",
    );
  });

  it("probes over HTTPS with the header of a user the web config lets in", () => {
    for (const probe of [container.livenessProbe, container.readinessProbe]) {
      expect(probe.httpGet.scheme).toBe("HTTPS");
      const header = probe.httpGet.httpHeaders?.find((h) => h.name === "Authorization")?.value;
      const [user, password] = Buffer.from(String(header).replace(/^Basic /, ""), "base64")
        .toString()
        .split(":");
      expect(bcrypt.compareSync(password!, hashes[user!]!.replace(/^\$2y\$/, "$2b$"))).toBe(true);
    }
  });

  it.each(["prometheus.yml", "prometheus-kubernetes.yml", "prometheus-probe.yml"])(
    "scrapes with scheme https and basic_auth as a user of the web config (%s)",
    (file) => {
      const config = parse(read(`deploy/prometheus/${file}`));
      for (const job of config.scrape_configs) {
        expect(job.scheme).toBe("https");
        expect(job.tls_config.ca_file).toMatch(/\.crt$/);
        expect(Object.keys(hashes)).toContain(job.basic_auth.username);
        expect(job.basic_auth.password_file).toBeTruthy();
        expect(job.basic_auth.password).toBeUndefined();
      }
    },
  );

  it.runIf(hasPromtool || requirePromtool)(
    "passes promtool check config with the door's fields, Kubernetes discovery aside",
    () => {
      // Debian's promtool has no Kubernetes discovery: check the rest of that job.
      const config = parse(read("deploy/prometheus/prometheus-kubernetes.yml"));
      delete config.rule_files;
      for (const job of config.scrape_configs) {
        delete job.kubernetes_sd_configs;
        delete job.relabel_configs;
      }
      const pki = doorPki();
      try {
        const file = pki.write("prometheus-kubernetes.yml", JSON.stringify(config));
        const r = spawnSync("promtool", ["check", "config", file], { encoding: "utf8" });
        expect(r.status, r.stdout + r.stderr).toBe(0);
      } finally {
        pki.remove();
      }
    },
  );
});
