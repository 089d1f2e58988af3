// The daemon's network work done by the smallest Node program that does it, a floor under
// `apigw-diag daemon` as bench/floor.cjs is one under diagnose: what any Node program pays in CPU
// and memory for this work on this node. Every target again `daemon.interval` after its last run
// started (the config's jitter taken as 0), `daemon.maxConcurrentTargets` at a time; a run is one
// DNS query for A and one for AAAA over UDP to the first resolver, then per address one verified
// TLS connection (Node's roots plus caFile) with `GET /<stage>/` for every stage on it, closed.
// Each DNS exchange and each connection is bounded by the config's timeout. A run is failed
// unless every stage at every address (one at least) answered 200. Not a daemon: no metrics,
// no reports, no logs, no reload. CommonJS and Node's built-ins only, as bench/floor.cjs, whose
// network work (bench/floor-net.cjs) it shares.
//   node bench/daemon-floor.cjs CONFIG_JSON      (the file bench/cpu.ts's configFor() writes)
// Runs until SIGTERM. Writes "runs N failed F checks C" (runs ended, of them failed, 200s seen)
// once started and again at each SIGUSR2: asked for, so no timer, socket or stream is kept for it.
"use strict";
const fs = require("node:fs");
const { lookup, question, stageRequests, stagesOk, trustWith } = require("./floor-net.cjs");

const config = JSON.parse(fs.readFileSync(process.argv[2], "latin1"));
const timeoutMs = ms(config.timeout);
const intervalMs = ms(config.daemon.interval);
const [dnsHost, dnsPort] = hostPort(config.resolvers[0]);
const secureContext = trustWith(config.caFile);
const targets = config.targets.map((t) => ({
  endpoint: t.endpoint,
  question: question(t.endpoint),
  requests: stageRequests(t.endpoint, t.apiId, t.stages),
}));

let runs = 0;
let failed = 0;
let checks = 0;

/** "5s", "200ms", "1m": the config's durations. */
function ms(duration) {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(duration);
  if (!m) throw new Error(`not a duration: ${duration}`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000 }[m[2]];
}

/** "host:port" or "[v6]:port". */
function hostPort(s) {
  const i = s.lastIndexOf(":");
  return [s.slice(0, i).replace(/^\[(.*)\]$/, "$1"), Number(s.slice(i + 1))];
}

/** One run of `target`: true when every stage at every address answered 200. */
async function run(target) {
  const found = await lookup({
    host: dnsHost,
    port: dnsPort,
    name: target.question,
    types: [1, 28],
    timeoutMs,
  });
  const ok = (
    await Promise.all(
      found.map((host) =>
        stagesOk({
          host,
          port: config.port,
          servername: target.endpoint,
          secureContext,
          requests: target.requests,
          timeoutMs,
        }),
      ),
    )
  ).reduce((a, b) => a + b, 0);
  checks += ok;
  return found.length > 0 && ok === found.length * target.requests.length;
}

// The daemon's scheduler without its bookkeeping: a target is due again an interval after its run
// started, and waits in a queue while maxConcurrentTargets runs are in flight.
const queue = [];
let running = 0;

function due(target) {
  queue.push(target);
  pump();
}

function pump() {
  while (running < config.daemon.maxConcurrentTargets && queue.length) start(queue.shift());
}

function start(target) {
  running++;
  const started = Date.now();
  const ended = (ok) => {
    runs++;
    if (!ok) failed++;
    running--;
    setTimeout(() => due(target), Math.max(0, started + intervalMs - Date.now()));
    pump();
  };
  run(target).then(ended, () => ended(false));
}

const report = () => fs.writeSync(1, `runs ${runs} failed ${failed} checks ${checks}\n`);
process.on("SIGUSR2", report);
report();
// First runs spread over the interval, as the daemon spreads them (over 5 s at most).
const spread = Math.min(intervalMs, 5_000) / targets.length;
targets.forEach((t, i) => setTimeout(() => due(t), i * spread));
