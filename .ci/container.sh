#!/usr/bin/env bash
# CI step for the container and the fleet pieces (issue 5): promtool checks of deploy/prometheus
# and of the dashboard's queries, then the container test (build the image with buildah, run the
# agent in it on loopback). As root, from a clone with shared/ beside it; installs what it needs.
# With CI set, the counts also go to reports/*.json in vitest's shape, for .ci/summary.mjs.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v promtool >/dev/null; then
  echo "installing Debian's prometheus package for promtool"
  # Wait for the dpkg lock rather than fail when another CI step is installing too.
  apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
    --no-install-recommends prometheus >/dev/null
fi

passed=0
failed=0
skipped=0
check() {
  local what=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL $what"
  fi
}

check "alert rules" promtool check rules deploy/prometheus/alerts.yml
check "alert rule tests" promtool test rules deploy/prometheus/alerts.test.yml
check "scrape config" promtool check config deploy/prometheus/prometheus.yml
check "probe scrape config" promtool check config deploy/prometheus/prometheus-probe.yml

# Debian builds Prometheus without Kubernetes service discovery, so its promtool cannot parse
# kubernetes_sd_configs; upstream promtool can. Say so rather than pass silently.
if out=$(promtool check config deploy/prometheus/prometheus-kubernetes.yml 2>&1); then
  passed=$((passed + 1))
elif grep -q 'field kubernetes_sd_configs not found' <<<"$out"; then
  skipped=$((skipped + 1))
  echo "SKIP prometheus-kubernetes.yml: this promtool has no Kubernetes discovery (Debian build)"
else
  failed=$((failed + 1))
  echo "$out"
fi

# promtool has no "check expression"; recording rules made of the dashboard's queries (Grafana
# variables replaced) let it parse every one.
dash_rules=$(mktemp --suffix=.yml)
trap 'rm -f "$dash_rules"' EXIT
node -e '
  const d = JSON.parse(require("fs").readFileSync("deploy/grafana/dashboard.json", "utf8"));
  const exprs = d.panels.flatMap((p) => p.targets.map((t) => t.expr));
  const rules = exprs.map((e, i) => ({
    record: `dashboard:query_${i}`,
    expr: e.replace(/\$__rate_interval/g, "5m").replace(/\$\w+/g, ".*"),
  }));
  console.log(JSON.stringify({ groups: [{ name: "dashboard", rules }] }));
' >"$dash_rules"
echo "Checking deploy/grafana/dashboard.json queries"
check "dashboard queries" promtool check rules "$dash_rules"

echo "promtool: $passed passed, $failed failed, $skipped skipped"
if [ -n "${CI:-}" ]; then
  mkdir -p reports
  printf '{"numPassedTests":%d,"numFailedTests":%d,"numPendingTests":%d}\n' \
    "$passed" "$failed" "$skipped" >reports/promtool.json
fi

# Last, so its closing "container: N passed, N failed" line is this step's closing line.
rc=0
npm run test:container || rc=$?
[ "$failed" = 0 ] && exit "$rc"
exit 1
