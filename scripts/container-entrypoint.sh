#!/bin/sh
# The container's entrypoint, installed as /usr/local/bin/apigw-diag. The daemon gets the node
# flags in $APIGW_DIAG_DAEMON_NODE_FLAGS (the Dockerfile's; docs/performance.md has what each
# buys); every other command runs on plain node. A node that rejects one of those flags (a later
# release dropped it, or a typo in an override) must not keep the daemon from starting: the flags
# are tried first, and if node refuses them, one warning on stderr and the daemon starts without.
# APIGW_DIAG_APP (default /app) is where dist/ is, for the tests and the bench.
app=${APIGW_DIAG_APP:-/app}
flags=
if [ "${1:-}" = daemon ] && [ -n "${APIGW_DIAG_DAEMON_NODE_FLAGS:-}" ]; then
  # Unquoted on purpose: a list of flags. Node checks its options before it runs anything.
  # shellcheck disable=SC2086
  if node $APIGW_DIAG_DAEMON_NODE_FLAGS -e 0 >/dev/null 2>&1; then
    flags=$APIGW_DIAG_DAEMON_NODE_FLAGS
  else
    echo "apigw-diag: warning: node $(node --version) rejects APIGW_DIAG_DAEMON_NODE_FLAGS ($APIGW_DIAG_DAEMON_NODE_FLAGS); starting the daemon without them" >&2
  fi
fi
# shellcheck disable=SC2086
exec node $flags "$app/dist/cli.js" "$@"
