#!/usr/bin/env bash
# wrk.sh measures issue 2's two throughput targets (creates and userName
# lookups at 16 clients, 100k users stored) with wrk, a load generator
# written in C (Debian package wrk), as a cross-check of scimload: on a
# 2-core machine the load generator shares the cores with the server, and
# wrk takes less of them than scimload's Go client (BENCHMARKS.md).
#
#   test/bench/wrk.sh                  # build, preload 100k users, measure
#   USERS=10000 DURATION=5s test/bench/wrk.sh
#   WORK=/tmp/wrkbench test/bench/wrk.sh   # keep the database for the next run
#   GROUP_PATCH_ANSWER=200 test/bench/wrk.sh  # group PATCHes answered 200 + members
#
# It builds scimbridge and scimload, serves an okta tenant on 127.0.0.1
# from a database in WORK (preloaded by scimload to USERS users), lets
# scimload warm the lookup cache and write the lookups, then runs wrk
# (2 threads, CONNS connections, DURATION) for get-by-filter, create and
# patch-group-members (a user added to and removed from a group of 1000
# members; answered 204 as the okta preset does, or with GROUP_PATCH_ANSWER=200
# 200 and the group), and prints requests/s, p50/p99 latency, the answers
# checked, and the server's CPU per request.
set -euo pipefail

USERS=${USERS:-100000}
DURATION=${DURATION:-8s}
CONNS=${CONNS:-16}
PORT=${PORT:-18391}
GROUP_PATCH_ANSWER=${GROUP_PATCH_ANSWER:-204}
case $GROUP_PATCH_ANSWER in
  204) no_content=true ;;
  200) no_content=false ;;
  *) echo "wrk.sh: GROUP_PATCH_ANSWER must be 204 or 200" >&2; exit 2 ;;
esac
command -v wrk >/dev/null || { echo "wrk.sh: wrk is not installed (apt-get install wrk)" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=${WORK:-$(mktemp -d)}
mkdir -p "$work"

(cd "$root" && go build -o "$work/scimbridge" ./cmd/scimbridge && go build -o "$work/scimload" ./cmd/scimload)
cat > "$work/config.yaml" <<CONFIG
listen: 127.0.0.1:$PORT
database: $work/bench.db
tenants:
  - name: okta
    preset: okta
    token_env: BENCH_SCIM_TOKEN
    quirks: {patch_no_content: $no_content}
CONFIG
export BENCH_SCIM_TOKEN=bench-token
"$work/scimbridge" serve --config "$work/config.yaml" > "$work/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  curl -fs -o /dev/null "http://127.0.0.1:$PORT/healthz" && break
  kill -0 $pid 2>/dev/null || { cat "$work/serve.log" >&2; exit 1; }
  sleep 0.1
done

base=http://127.0.0.1:$PORT/scim/v2/okta
"$work/scimload" --url "$base" --token "$BENCH_SCIM_TOKEN" --users "$USERS" --ops get-by-filter \
  --clients 16 --duration 3s --lookups-out "$work/lookups.txt" --members-out "$work/members.txt" --pid $pid

cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; } # utime + stime, in clock ticks
tick=$(getconf CLK_TCK)
measure() {
  local op=$1 script=$2
  local c0 c1 n
  c0=$(cpu)
  LOOKUPS="$work/lookups.txt" MEMBERS="$work/members.txt" BASE_PATH=/scim/v2/okta RUN_ID="$(date +%s)" \
    wrk -t2 -c"$CONNS" -d"$DURATION" --latency -s "$script" "http://127.0.0.1:$PORT" > "$work/wrk-$op.txt"
  c1=$(cpu)
  n=$(awk '/requests in/ {print $1}' "$work/wrk-$op.txt")
  printf '%-14s %5s conns  %9s req/s  p50 %-9s p99 %-9s server %3s µs/req  %s\n' "$op" "$CONNS" \
    "$(awk '/Requests\/sec/ {print $2}' "$work/wrk-$op.txt")" \
    "$(awk '$1 == "50%" {print $2}' "$work/wrk-$op.txt")" \
    "$(awk '$1 == "99%" {print $2}' "$work/wrk-$op.txt")" \
    "$(( (c1 - c0) * 1000000 / tick / n ))" \
    "$(grep -h '^checked:' "$work/wrk-$op.txt")"
  if grep -q 'Non-2xx' "$work/wrk-$op.txt" || ! grep -q ', 0 wrong' "$work/wrk-$op.txt"; then
    echo "wrk.sh: $op: wrong answers (see $work/wrk-$op.txt)" >&2
    exit 1
  fi
}
echo
measure get-by-filter "$here/wrk-lookup.lua"
measure create "$here/wrk-create.lua"
measure patch-group-members "$here/wrk-members.lua"
grep -E '^(VmRSS|VmHWM)' "/proc/$pid/status" | tr -s ' \t' ' '
