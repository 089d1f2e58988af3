#!/usr/bin/env bash
# The manual runbook this tool replaces, scripted the way a person would: dig the endpoint name,
# then one curl per address x stage, one after the other. Prints "ok/total" and exits 0.
#   runbook.sh NAME DNS_HOST DNS_PORT PORT API_ID CA_FILE TIMEOUT_SECONDS STAGE...
set -u
name=$1 dns_host=$2 dns_port=$3 port=$4 api_id=$5 ca=$6 t=$7
shift 7
addresses=$(dig +short +time="$t" +tries=1 @"$dns_host" -p "$dns_port" "$name" A)
ok=0 total=0
for address in $addresses; do
  for stage in "$@"; do
    total=$((total + 1))
    code=$(curl -sS -o /dev/null -w '%{http_code}' --connect-timeout "$t" --max-time "$((t * 3))" \
      --resolve "$name:$port:$address" -H "x-apigw-api-id: $api_id" --cacert "$ca" \
      "https://$name:$port/$stage/" 2>/dev/null)
    [ "$code" = 200 ] && ok=$((ok + 1))
  done
done
echo "$ok/$total"
