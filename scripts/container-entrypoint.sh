#!/bin/sh
# The container's entrypoint, installed as /usr/local/bin/apigw-diag: node's V8 flags on its
# command line, per command (docs/performance.md has what each buys).
# - daemon: $APIGW_DIAG_DAEMON_NODE_FLAGS and $APIGW_DIAG_DAEMON_ENV on every Node line, and
#   $APIGW_DIAG_DAEMON_LEAN_FLAGS on Node 22 and later, where they take 3-4 MiB off the daemon's
#   RSS for 5-10 % more CPU per check; on Node 20 they cost 20 % more CPU for 0-3 MiB. The line is
#   read from NODE_VERSION, which the official node images set; without it, no lean flags.
# - every other command: --liftoff-only.
# APIGW_DIAG_APP (default /app) is where dist/ is, for the tests and the bench.
app=${APIGW_DIAG_APP:-/app}
case "$1" in
  daemon)
    case "${NODE_VERSION:-}" in
      '' | [0-9].* | 1[0-9].* | 2[01].*) lean= ;;
      *) lean=$APIGW_DIAG_DAEMON_LEAN_FLAGS ;;
    esac
    # Unquoted on purpose: each variable is a list of flags or NAME=VALUE words.
    # shellcheck disable=SC2086
    exec env $APIGW_DIAG_DAEMON_ENV node $APIGW_DIAG_DAEMON_NODE_FLAGS $lean "$app/dist/cli.cjs" "$@"
    ;;
  *) exec node --liftoff-only "$app/dist/cli.cjs" "$@" ;;
esac
