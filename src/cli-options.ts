// The options of each command, declared once: for yargs (help, errors, the top level) and for the
// cheaper parse of a command line that needs neither (src/cli-parse.ts).
import type { Argv } from "yargs";

export function commonOptions<T>(y: Argv<T>) {
  return y
    .option("format", {
      choices: ["text", "json"] as const,
      describe: "report format [default: text on a terminal, json otherwise]",
    })
    .option("log-level", {
      type: "string",
      describe: "pino level for the logs (stderr; stdout for daemon) [default: info]",
    });
}

export function targetOptions<T>(y: Argv<T>) {
  return y
    .option("endpoint", {
      type: "string",
      describe: "VPC endpoint DNS name (vpce-...execute-api.<region>.vpce.amazonaws.com)",
    })
    .option("api-id", { type: "string", describe: "REST API id" })
    .option("stage", { type: "string", array: true, describe: "stage to call (repeatable)" })
    .option("resolver", {
      type: "string",
      array: true,
      describe: "DNS resolver ip[:port] (repeatable; default: the system's)",
    })
    .option("port", { type: "number", describe: "endpoint port [default: 443]" })
    .option("timeout", { type: "string", describe: "per-phase timeout [default: 5s]" })
    .option("ca-file", { type: "string", describe: "PEM CA added to the system roots" })
    .option("mode", {
      choices: ["header", "host", "alias", "domain"] as const,
      describe: "access mode [default: header; domain with --domain]",
    })
    .option("domain", {
      type: "string",
      describe: "private custom domain name to call (mode domain); --endpoint then optional",
    })
    .option("base-path", {
      type: "string",
      array: true,
      describe: "base path of the custom domain, in place of stages (repeatable) [default: /]",
    })
    .option("family", {
      type: "string",
      choices: ["auto", "4", "6"] as const,
      describe:
        "address families to probe; auto: IPv6 when this host has IPv6 connectivity [default: auto]",
    })
    .option("compare-modes", {
      type: "boolean",
      describe: "when header mode is Forbidden, compare with host and alias mode [default: true]",
    })
    .option("path", { type: "string", describe: "path appended to /<stage> [default: /]" })
    .option("header", {
      type: "string",
      array: true,
      describe: "extra request header 'name: value' (repeatable)",
    })
    .option("expect-status", {
      type: "number",
      array: true,
      describe: "status codes that count as success [default: 2xx]",
    })
    .option("private-cidr", {
      type: "string",
      array: true,
      describe: "CIDR accepted besides RFC 1918 (repeatable)",
    })
    .option("compare-os", {
      type: "boolean",
      describe: "compare with the OS resolver (dns.lookup) [default: true]",
    })
    .option("insecure", {
      type: "boolean",
      describe: "do not fail on certificate errors (reported as such)",
    })
    .option("concurrency", { type: "number", describe: "connections open at once [default: 32]" })
    .option("expect-source", {
      type: "string",
      array: true,
      describe:
        "source range traffic to the endpoint must leave from (repeatable; PATH_UNEXPECTED)",
    })
    .option("expect-interface", {
      type: "string",
      array: true,
      describe: "interface traffic to the endpoint must leave by (repeatable; PATH_UNEXPECTED)",
    })
    .option("aws", {
      type: "boolean",
      describe: "read AWS (read-only) to name the resource behind a failure [default: false]",
    })
    .option("aws-profile", {
      type: "string",
      describe: "AWS profile for --aws (implies it) [default: the SDK's default chain]",
    })
    .option("config", { type: "string", describe: "config file (YAML or JSON)" });
}

/** `diagnose` alone: run again and again (commands/watch.ts). */
export function watchOptions<T>(y: Argv<T>) {
  return y
    .option("watch", {
      type: "string",
      describe: "run again every interval until interrupted: a line per run [default: 10s]",
    })
    .option("until", {
      choices: ["healthy"] as const,
      describe: "watch until a run is healthy, then exit 0",
    });
}

export function daemonOptions<T>(y: Argv<T>) {
  return targetOptions(y)
    .option("listen", {
      type: "string",
      describe: "host:port for /metrics, /healthz and /report [default: 0.0.0.0:9464]",
    })
    .option("interval", {
      type: "string",
      describe: "time between two runs of a target [default: 60s]",
    })
    .option("web-config", {
      type: "string",
      describe: "web config file (exporter-toolkit format): TLS, basic auth, response headers",
    });
}

export function demoOptions<T>(y: Argv<T>) {
  return y
    .option("timeout", { type: "string", default: "2s", describe: "per-phase timeout" })
    .option("scenario", {
      choices: [
        "strict",
        "dualstack",
        "domain-unassociated",
        "domain-elsewhere",
        "strict-421",
        "default-endpoint-disabled",
        "zone-forward",
        "aaaa-only",
        "tls13-only",
        "missing-token-404",
        "domain-deny-all",
      ] as const,
      describe: "show one of today's private-API failures instead of the default demo",
    });
}
