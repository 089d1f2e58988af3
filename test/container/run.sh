#!/usr/bin/env bash
# The container test (npm run test:container): builds the image from the Dockerfile with buildah,
# then runs the agent inside it as uid 1000 (the image's `node` user) against the simulator, all
# on loopback: `diagnose` must give the right verdict and exit code, `daemon` must serve /metrics
# and /healthz, the image's HEALTHCHECK must pass, and nothing may be written outside /tmp (the
# image promises to run on a read-only root filesystem).
#
# Needs root (buildah) and ../shared/container/prepare-base-image.sh beside the repository (it
# installs buildah and the stand-in node base images, since there is no Docker engine here).
# Everything it starts it stops, also on failure: processes by pid, the container with buildah rm.
set -euo pipefail

STARTED=$(date +%s)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
IMAGE=${APIGW_DIAG_TEST_IMAGE:-localhost/apigw-diag:test}
PREPARE="$ROOT/../shared/container/prepare-base-image.sh"
RUN_AS=1000:1000

WORK=$(mktemp -d "${TMPDIR:-/tmp}/apigw-diag-container.XXXXXX")
CTR=""
MNT=""
SIM_PID=""
DAEMON_PID=""
passed=0
failed=0
skipped=0

say() { printf '[container] %s\n' "$*"; }
pass() { passed=$((passed + 1)); say "PASS $*"; }
fail() { failed=$((failed + 1)); say "FAIL $*"; }
# Under CI a skip is a failure: what CI cannot check, it must not report as fine.
skip() {
  if [ "${CI:-}" = true ]; then fail "(skipped under CI) $*"; else skipped=$((skipped + 1)); say "SKIP $*"; fi
}

# A background `buildah run` is buildah -> chroot runtime -> exec -> node; signal the innermost
# first so the agent sees SIGTERM itself, then whatever is left. Only our own pids, never by name.
descendants() {
  local child
  for child in $(pgrep -P "$1" || true); do
    descendants "$child"
    echo "$child"
  done
}
# The agent itself: the deepest descendant (no `| head`, which would SIGPIPE under pipefail).
innermost() {
  local all
  all=$(descendants "$1")
  echo "${all%%$'\n'*}"
}
stop_tree() {
  local top=$1 pids pid
  [ -n "$top" ] || return 0
  pids="$(descendants "$top") $top"
  for pid in $pids; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 50); do
    kill -0 "$top" 2>/dev/null || break
    sleep 0.1
  done
  # Escalate only for what is still there, so a pid reused meanwhile is not hit.
  for pid in $pids; do
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  done
  wait "$top" 2>/dev/null || true
}

# In CI, the counts in the shape of vitest's JSON report, so CI's one closing line counts these
# checks too; a run that stopped early counts as one more failure.
write_report() {
  local rc=$1
  [ -n "${CI:-}" ] || return 0
  if [ "$rc" != 0 ] && [ "$failed" = 0 ]; then failed=1; fi
  mkdir -p "$ROOT/reports"
  printf '{"numPassedTests":%d,"numFailedTests":%d,"numPendingTests":%d}\n' \
    "$passed" "$failed" "$skipped" >"$ROOT/reports/container.json"
}

cleanup() {
  local rc=$?
  write_report "$rc"
  stop_tree "$DAEMON_PID"
  stop_tree "$SIM_PID"
  if [ -n "$MNT" ]; then buildah umount "$CTR" >/dev/null 2>&1 || true; fi
  if [ -n "$CTR" ]; then buildah rm "$CTR" >/dev/null 2>&1 || true; fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

in_ctr() { buildah run --isolation chroot --user "$RUN_AS" "$CTR" -- "$@"; }

# Reads one field of a JSON document: json FILE 'expression on d'.
json() { node -e 'const d=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));const v=eval(process.argv[2]);console.log(typeof v==="string"?v:JSON.stringify(v))' "$1" "$2"; }

# GET on loopback: prints the status; the body goes to $2.
http_get() {
  node -e '
    const [url, out] = process.argv.slice(1);
    require("http").get(url, { timeout: 5000 }, (r) => {
      const chunks = [];
      r.on("data", (c) => chunks.push(c));
      r.on("end", () => { require("fs").writeFileSync(out, Buffer.concat(chunks)); console.log(r.statusCode); });
    }).on("error", () => console.log(0)).on("timeout", function () { this.destroy(); });
  ' "$1" "$2"
}

free_port() { node -e 's=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

# --- 1. base image and build ---------------------------------------------------------------
[ "$(id -u)" = 0 ] || { say "needs root (buildah)"; exit 1; }
[ -f "$PREPARE" ] || { say "missing $PREPARE (shared/ beside the repository)"; exit 1; }
bash "$PREPARE"
t0=$(date +%s)
buildah bud --isolation chroot --pull=never --format docker --layers -q -t "$IMAGE" "$ROOT" >/dev/null
say "built $IMAGE in $(($(date +%s) - t0))s, size $(buildah images --format '{{.Size}}' "$IMAGE")"

buildah inspect --type image "$IMAGE" |
  node -e 'console.log(JSON.stringify(JSON.parse(require("fs").readFileSync(0,"utf8")).Docker.config))' \
    >"$WORK/config.json"
check_config() {
  local what=$1 expr=$2 want=$3 got
  got=$(json "$WORK/config.json" "$expr")
  if [ "$got" = "$want" ]; then pass "image $what"; else fail "image $what: got $got, want $want"; fi
}
check_config "runs as node" 'd.User' node
check_config "entrypoint" 'd.Entrypoint' '["apigw-diag"]'
check_config "default command" 'd.Cmd' '["daemon","--config","/etc/apigw-diag/config.yaml"]'
check_config "exposes 9464" 'Object.keys(d.ExposedPorts)' '["9464/tcp"]'
check_config "healthcheck without curl" 'd.Healthcheck.Test[0]+" "+d.Healthcheck.Test[1]' 'CMD node'
check_config "OCI title label" 'd.Labels["org.opencontainers.image.title"]' apigw-diag

CTR=$(buildah from --pull=never "$IMAGE")
MNT=$(buildah mount "$CTR")
if [ ! -f "$MNT/app/dist/cli.js" ]; then
  fail "diagnose and daemon: the image has no dist/cli.js"
fi

# What the agent and the simulator write from here on must stay under /tmp.
touch "$WORK/marker"

# The entrypoint's node flags for the daemon: the image's ENV, read back from node's execArgv by a
# preload the container writes to /tmp; the daemon itself never starts. With a flag this node
# rejects, the daemon must start all the same, without the flags, after one warning.
env_of() { json "$WORK/config.json" "(d.Env.find((e) => e.startsWith('$1=')) || '').slice('$1='.length)"; }
daemon_flags() {
  # shellcheck disable=SC2016
  in_ctr sh -c 'printf "%s" "process.stdout.write(process.execArgv.join(\" \"));process.exit(0)" \
    >/tmp/flags.cjs && APIGW_DIAG_DAEMON_NODE_FLAGS=${1:-$APIGW_DIAG_DAEMON_NODE_FLAGS} \
    NODE_OPTIONS=--require=/tmp/flags.cjs exec apigw-diag daemon' sh "$@"
}
BASE_FLAGS=$(env_of APIGW_DIAG_DAEMON_NODE_FLAGS)
got=$(daemon_flags)
if [ -n "$BASE_FLAGS" ] && [ "$got" = "$BASE_FLAGS" ]; then
  pass "entrypoint: the daemon gets the image's node flags"
else fail "entrypoint: daemon flags: got '$got', want '$BASE_FLAGS'"; fi
got=$(daemon_flags "$BASE_FLAGS --no-such-v8-flag-of-apigw-diag" 2>"$WORK/flags.err")
if [ -z "$got" ] && [ "$(grep -c 'rejects' "$WORK/flags.err")" = 1 ]; then
  pass "entrypoint: a flag node rejects: one warning, the daemon starts without the flags"
else fail "entrypoint: with a rejected flag: got '$got', stderr: $(cat "$WORK/flags.err")"; fi
sleep 1

# --- 2. simulator, inside the image, as uid 1000 --------------------------------------------
in_ctr node /app/dist/simulator/main.js --address 127.0.0.1 --address 127.0.0.2 \
  --https-port 0 --dns-port 0 --stage prod=ok --stage v2=ok --stage old=deny \
  >"$WORK/sim.out" 2>"$WORK/sim.err" &
SIM_PID=$!
for _ in $(seq 120); do
  grep -q '"ready":true' "$WORK/sim.out" 2>/dev/null && break
  kill -0 "$SIM_PID" 2>/dev/null || break
  sleep 0.5
done
if ! grep -q '"ready":true' "$WORK/sim.out"; then
  cat "$WORK/sim.err" >&2
  fail "simulator did not start inside the image"
  exit 1
fi
head -1 "$WORK/sim.out" >"$WORK/sim.json"
ENDPOINT=$(json "$WORK/sim.json" d.endpoint)
API_ID=$(json "$WORK/sim.json" d.apiId)
PORT=$(json "$WORK/sim.json" d.port)
DNS_PORT=$(json "$WORK/sim.json" d.dns.port)
CA_FILE=$(json "$WORK/sim.json" d.caFile)
pass "simulator runs inside the image as uid 1000 (https :$PORT, dns :$DNS_PORT)"

# --- 3. diagnose: verdict and exit code through the entrypoint wrapper ----------------------
diagnose() {
  local name=$1 want=$2 rc=0 got
  shift 2
  in_ctr apigw-diag diagnose --endpoint "$ENDPOINT" --api-id "$API_ID" "$@" \
    --resolver "127.0.0.1:$DNS_PORT" --port "$PORT" --ca-file "$CA_FILE" \
    --private-cidr 127.0.0.0/8 --no-compare-os --format json >"$WORK/$name.json" 2>"$WORK/$name.err" || rc=$?
  got=$(json "$WORK/$name.json" \
    '[d.verdict, d.exitCode, d.targets[0].primaryCause?.code ?? "-"].join(" ")' 2>/dev/null ||
    echo "no-report")
  if [ "$got $rc" = "$want" ]; then
    pass "diagnose $name: verdict, exit code in the report, primary cause, exit status: $want"
  else
    fail "diagnose $name: got '$got $rc', want '$want'"
    tail -5 "$WORK/$name.err" >&2
  fi
}
if [ -f "$MNT/app/dist/cli.js" ]; then
  # want: verdict, exitCode in the JSON, primary cause, exit status of the container's process.
  diagnose healthy "healthy 0 - 0" --stage prod --stage v2
  diagnose degraded "degraded 1 HTTP_POLICY_DENY 1" --stage prod --stage old
  diagnose failing "failing 2 HTTP_POLICY_DENY 2" --stage old
fi

# --- 4. daemon: /healthz, /metrics, the image's HEALTHCHECK, clean SIGTERM -----------------
has_daemon() {
  [ -e "$MNT/app/dist/daemon" ] || in_ctr apigw-diag --help 2>&1 | grep -qE '^ *apigw-diag daemon'
}
if [ ! -f "$MNT/app/dist/cli.js" ]; then
  :
elif ! has_daemon; then
  fail "daemon: the image's CLI has no 'daemon' command: /metrics and /healthz NOT checked"
else
  LISTEN_PORT=$(free_port)
  cat >"$WORK/config.yaml" <<EOF
timeout: 2s
resolvers: ["127.0.0.1:$DNS_PORT"]
caFile: $CA_FILE
privateCidrs: [127.0.0.0/8]
compareOs: false
port: $PORT
daemon:
  interval: 2s
  listen: 127.0.0.1:$LISTEN_PORT
targets:
  - name: sim
    endpoint: $ENDPOINT
    apiId: $API_ID
    stages: [prod, v2]
EOF
  buildah copy --chown 0:0 "$CTR" "$WORK/config.yaml" /etc/apigw-diag/config.yaml >/dev/null
  # The image's default command, as it is: `daemon --config /etc/apigw-diag/config.yaml`.
  in_ctr apigw-diag daemon --config /etc/apigw-diag/config.yaml \
    >"$WORK/daemon.out" 2>"$WORK/daemon.err" &
  DAEMON_PID=$!
  base="http://127.0.0.1:$LISTEN_PORT"
  status=0
  for _ in $(seq 60); do
    status=$(http_get "$base/healthz" "$WORK/healthz")
    [ "$status" = 200 ] && break
    kill -0 "$DAEMON_PID" 2>/dev/null || break
    sleep 0.5
  done
  if [ "$status" = 200 ]; then pass "daemon /healthz 200 over loopback"; else
    fail "daemon /healthz: status $status"
    tail -5 "$WORK/daemon.err" >&2
  fi
  # The first run may still be going: wait for a verdict to appear.
  for _ in $(seq 60); do
    http_get "$base/metrics" "$WORK/metrics" >/dev/null
    grep -q '^apigw_diag_target_verdict{.*verdict="healthy".*} 1' "$WORK/metrics" && break
    sleep 0.5
  done
  for metric in apigw_diag_probe_success apigw_diag_target_verdict apigw_diag_finding \
    apigw_diag_phase_duration_seconds_bucket apigw_diag_last_run_timestamp_seconds \
    apigw_diag_runs_total process_cpu_seconds_total; do
    if grep -q "^$metric[{ ]" "$WORK/metrics"; then pass "/metrics has $metric"; else fail "/metrics lacks $metric"; fi
  done
  if grep -q '^apigw_diag_target_verdict{.*verdict="healthy".*} 1' "$WORK/metrics"; then
    pass "/metrics says target sim is healthy"
  else
    fail "/metrics: no healthy verdict for target sim"
  fi
  status=$(http_get "$base/report" "$WORK/report")
  if [ "$status" = 200 ] && grep -q '"sim"' "$WORK/report" && json "$WORK/report" 1 >/dev/null; then
    pass "daemon /report 200, JSON naming target sim"
  else
    fail "daemon /report: status $status"
  fi
  # `docker kill -s HUP` reloads the config: the agent must survive it and keep serving.
  node_pid=$(innermost "$DAEMON_PID")
  kill -HUP "${node_pid:-$DAEMON_PID}" 2>/dev/null || true
  sleep 1
  status=$(http_get "$base/healthz" "$WORK/healthz")
  if kill -0 "$DAEMON_PID" 2>/dev/null && [ "$status" = 200 ]; then
    pass "daemon reloads on SIGHUP and keeps serving"
  else
    fail "daemon after SIGHUP: /healthz $status"
  fi
  # The HEALTHCHECK exactly as the image declares it, pointed at this daemon's port.
  mapfile -t hc < <(json "$WORK/config.json" 'd.Healthcheck.Test.slice(1).join("\n")')
  if buildah run --isolation chroot --user "$RUN_AS" --env "APIGW_DIAG_LISTEN=127.0.0.1:$LISTEN_PORT" \
    "$CTR" -- "${hc[@]}"; then
    pass "image HEALTHCHECK passes against the daemon"
  else
    fail "image HEALTHCHECK fails against a healthy daemon"
  fi
  # SIGTERM to the agent itself (the innermost process): it must finish cleanly.
  node_pid=$(innermost "$DAEMON_PID")
  kill -TERM "${node_pid:-$DAEMON_PID}" 2>/dev/null || true
  rc=0
  for _ in $(seq 100); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$DAEMON_PID" 2>/dev/null; then
    fail "daemon still running 10s after SIGTERM"
  else
    wait "$DAEMON_PID" || rc=$?
    if [ "$rc" = 0 ]; then pass "daemon exits 0 on SIGTERM"; else fail "daemon exit $rc on SIGTERM"; fi
  fi
  DAEMON_PID=""
fi

stop_tree "$SIM_PID"
SIM_PID=""

# --- 5. read-only root: nothing written outside /tmp ---------------------------------------
# (/run/.containerenv is buildah's own; /etc/apigw-diag is the config this test copied in.)
written=$(cd "$MNT" && find . -xdev -newer "$WORK/marker" -not -path './tmp' -not -path './tmp/*' \
  -not -path './etc/apigw-diag*' -not -path ./run -not -path ./run/.containerenv -print)
if [ -z "$written" ]; then pass "nothing written outside /tmp"; else
  fail "written outside /tmp (breaks a read-only root): $(echo "$written" | tr '\n' ' ')"
fi

# --- 6. the daemon's door: a web config in exporter-toolkit's format -------------------------
# The file as exporter-toolkit's docs show it (tls_server_config with cert_file and key_file
# beside it, basic_auth_users with a bcrypt hash), a throwaway CA made here; the daemon in the
# image must answer HTTPS with basic auth only, refuse an unusable file with exit 3, and keep the
# old file on a SIGHUP to an unusable one.
https_get() {
  node -e '
    const [url, ca, auth] = process.argv.slice(1);
    const headers = auth ? { authorization: "Basic " + Buffer.from(auth).toString("base64") } : {};
    require("https").get(url, { ca: require("fs").readFileSync(ca), servername: "localhost", headers, timeout: 5000 }, (r) => {
      r.resume(); r.on("end", () => console.log(r.statusCode));
    }).on("error", () => console.log(0)).on("timeout", function () { this.destroy(); });
  ' "$1" "$2" "${3:-}"
}
if [ ! -f "$MNT/app/dist/cli.js" ] || ! has_daemon; then
  fail "door: no daemon in the image: the web config NOT checked"
elif ! command -v openssl >/dev/null; then
  skip "door: no openssl on this host to make a test CA"
else
  DOOR="$WORK/door"
  mkdir -p "$DOOR"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=apigw-diag door test CA" \
    -keyout "$DOOR/ca.key" -out "$DOOR/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$DOOR/server.key" \
    -out "$DOOR/server.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$DOOR/ext"
  openssl x509 -req -in "$DOOR/server.csr" -CA "$DOOR/ca.crt" -CAkey "$DOOR/ca.key" \
    -CAcreateserial -days 2 -extfile "$DOOR/ext" -out "$DOOR/server.crt" 2>/dev/null
  # htpasswd -nBC 10 writes $2y$; bcryptjs writes $2b$, the same algorithm.
  HASH=$(node -e 'console.log(require(process.argv[1]).hashSync("door-s3cret", 10).replace(/^\$2b\$/, "$2y$"))' \
    "$ROOT/node_modules/bcryptjs")
  {
    echo "# TLS and basic authentication configuration example."
    echo "#"
    echo "# Additionally, a certificate and a key file are needed."
    echo "tls_server_config:"
    echo "  cert_file: server.crt"
    echo "  key_file: server.key"
    echo
    echo "# Usernames and passwords required to connect."
    echo "basic_auth_users:"
    echo "  prometheus: $HASH"
  } >"$DOOR/web-config.yml"
  printf 'tls_server_config:\n  cert_file: server.crt\n' >"$DOOR/broken.yml"
  DOOR_PORT=$(free_port)
  printf 'daemon:\n  interval: 60s\n  listen: 127.0.0.1:%s\nmodules:\n  orders: { apiId: a1b2c3d4e5, stages: [prod] }\n' \
    "$DOOR_PORT" >"$DOOR/config.yaml"
  for f in web-config.yml broken.yml server.crt server.key config.yaml; do
    buildah copy --chown 1000:1000 --chmod 0600 "$CTR" "$DOOR/$f" "/etc/apigw-diag-web/$f" >/dev/null
  done
  rc=0
  in_ctr apigw-diag daemon --config /etc/apigw-diag-web/config.yaml \
    --web-config /etc/apigw-diag-web/broken.yml >"$DOOR/broken.out" 2>"$DOOR/broken.err" || rc=$?
  # (buildah adds a line of its own about the exit status: the agent's are those it prefixes.)
  if [ "$rc" = 3 ] && [ "$(grep -c '^apigw-diag: ' "$DOOR/broken.err")" = 1 ] &&
    ! grep -qE '^\s+at ' "$DOOR/broken.err" &&
    grep -q '^apigw-diag: web config .*missing one of key or key_file$' "$DOOR/broken.err"; then
    pass "door: an unusable web config refuses to start, one line, exit 3"
  else
    fail "door: unusable web config: exit $rc, stderr: $(head -c 600 "$DOOR/broken.err")"
  fi
  in_ctr apigw-diag daemon --config /etc/apigw-diag-web/config.yaml \
    --web-config /etc/apigw-diag-web/web-config.yml >"$DOOR/daemon.out" 2>"$DOOR/daemon.err" &
  DAEMON_PID=$!
  door="https://127.0.0.1:$DOOR_PORT"
  status=0
  for _ in $(seq 60); do
    status=$(https_get "$door/healthz" "$DOOR/ca.crt" prometheus:door-s3cret)
    [ "$status" = 200 ] && break
    kill -0 "$DAEMON_PID" 2>/dev/null || break
    sleep 0.5
  done
  if [ "$status" = 200 ]; then pass "door: /healthz over TLS with basic auth: 200"; else
    fail "door: /healthz over TLS with basic auth: status $status"
    tail -5 "$DOOR/daemon.err" >&2
  fi
  for path in / /metrics /report /healthz; do
    status=$(https_get "$door$path" "$DOOR/ca.crt")
    if [ "$status" = 401 ]; then pass "door: $path without credentials: 401"; else
      fail "door: $path without credentials: status $status"
    fi
  done
  status=$(http_get "http://127.0.0.1:$DOOR_PORT/healthz" "$DOOR/plain")
  if [ "$status" != 200 ]; then pass "door: plain HTTP gets no answer"; else fail "door: plain HTTP answered 200"; fi
  # SIGHUP to an unusable web config: refused, the old lock kept.
  buildah copy --chown 1000:1000 --chmod 0600 "$CTR" "$DOOR/broken.yml" \
    /etc/apigw-diag-web/web-config.yml >/dev/null
  node_pid=$(innermost "$DAEMON_PID")
  kill -HUP "${node_pid:-$DAEMON_PID}" 2>/dev/null || true
  for _ in $(seq 20); do
    grep -q '"event":"reload_failed"' "$DOOR/daemon.out" && break
    sleep 0.25
  done
  a=$(https_get "$door/metrics" "$DOOR/ca.crt")
  b=$(https_get "$door/metrics" "$DOOR/ca.crt" prometheus:door-s3cret)
  if grep -q '"event":"reload_failed".*web config' "$DOOR/daemon.out" && [ "$a $b" = "401 200" ]; then
    pass "door: SIGHUP to an unusable web config is refused, the old one kept"
  else
    fail "door: after SIGHUP to an unusable web config: $a $b"
  fi
  stop_tree "$DAEMON_PID"
  DAEMON_PID=""
fi

say "took $(($(date +%s) - STARTED))s"
echo "container: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
