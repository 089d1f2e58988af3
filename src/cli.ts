#!/usr/bin/env node
// The command line: yargs commands and nothing else. Each command loads what it needs when it
// runs, so `--version` and `diagnose` do not pay for the daemon's server and metrics.
import yargs, { type Argv } from "yargs";
import { hideBin } from "yargs/helpers";
import { UsageError, EXIT } from "./types.js";
import { version } from "./version.js";

const fail = (message: string): never => {
  process.stderr.write(`apigw-diag: ${message.split("\n")[0]}\n`);
  process.exit(EXIT.error);
};

function targetOptions<T>(y: Argv<T>) {
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
      choices: ["header", "host", "alias"] as const,
      describe: "access mode [default: header]",
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
    .option("config", { type: "string", describe: "config file (YAML or JSON)" });
}

async function main(argv: string[]): Promise<void> {
  const isTty = Boolean(process.stdout.isTTY);
  await yargs(argv)
    .scriptName("apigw-diag")
    .version(version())
    .strict()
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .option("format", {
      choices: ["text", "json"] as const,
      describe: "report format [default: text on a terminal, json otherwise]",
    })
    .option("log-level", {
      type: "string",
      describe: "pino level for the logs on stderr [default: info]",
    })
    .command(
      "diagnose",
      "diagnose each stage of a private API, layer by layer, once",
      (y) => targetOptions(y),
      async (args) => {
        const [{ loadSettings }, { runDiagnose }, { createLogger }] = await Promise.all([
          import("./config/from-args.js"),
          import("./commands/diagnose.js"),
          import("./log.js"),
        ]);
        const { settings, format } = loadSettings(args, process.env, isTty);
        const log = createLogger({ level: args.logLevel });
        const controller = new AbortController();
        process.once("SIGINT", () => controller.abort());
        const report = await runDiagnose(settings, {
          format,
          color: isTty && format === "text",
          log,
          signal: controller.signal,
        });
        process.exitCode = report.exitCode;
      },
    )
    .command(
      "demo",
      "diagnose a built-in simulated endpoint on loopback: no AWS needed",
      (y) => y.option("timeout", { type: "string", default: "2s", describe: "per-phase timeout" }),
      async (args) => {
        const [{ runDemo }, { createLogger }] = await Promise.all([
          import("./commands/demo.js"),
          import("./log.js"),
        ]);
        const format = args.format ?? "text"; // a showcase for people, even when piped
        const log = createLogger({ level: args.logLevel ?? "error" });
        await runDemo({ format, color: isTty && format === "text", log, timeout: args.timeout });
      },
    )
    .demandCommand(1, "give a command: diagnose, daemon or demo")
    .fail((msg, err) => {
      if (err && !(err instanceof UsageError)) throw err;
      fail(msg ?? err?.message ?? "invalid arguments");
    })
    .parseAsync();
}

main(hideBin(process.argv)).catch((err: unknown) => {
  if (err instanceof UsageError) fail(err.message);
  // A bug, not a user error: keep the stack.
  process.stderr.write(
    `apigw-diag: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(EXIT.error);
});
