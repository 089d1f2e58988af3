// The runbook's checks done by the smallest Node program that does them: one DNS query for A over
// UDP, one verified TLS connection per address, every stage on it in turn, Node's built-ins only
// and no flags. It trusts what diagnose trusts: Node's roots plus CA_FILE (DESIGN.md's caFile).
// What any Node program pays for this work on this node, a floor under `apigw-diag diagnose`; not
// a diagnostic (no AAAA, no findings, no report). CommonJS, since an ES module loads Node's ES
// module loader on top. The network work itself is bench/floor-net.cjs, shared with the daemon's.
//   node bench/floor.cjs NAME DNS_HOST DNS_PORT PORT API_ID CA_FILE TIMEOUT_SECONDS STAGE...
// Prints "ok/total" as bench/runbook.sh does.
"use strict";
const { lookup, question, stageRequests, stagesOk, trustWith } = require("./floor-net.cjs");

const [name, dnsHost, dnsPort, port, apiId, caFile, seconds, ...stages] = process.argv.slice(2);
const timeoutMs = Number(seconds) * 1000;

(async () => {
  const secureContext = trustWith(caFile);
  const found = await lookup({
    host: dnsHost,
    port: Number(dnsPort),
    name: question(name),
    types: [1],
    timeoutMs,
  });
  const requests = stageRequests(name, apiId, stages);
  const ok = await Promise.all(
    found.map((host) =>
      stagesOk({ host, port: Number(port), servername: name, secureContext, requests, timeoutMs }),
    ),
  );
  process.stdout.write(`${ok.reduce((a, b) => a + b, 0)}/${found.length * stages.length}\n`);
})().catch((err) => {
  process.stderr.write(`floor: ${err.message}\n`);
  process.exitCode = 1;
});
