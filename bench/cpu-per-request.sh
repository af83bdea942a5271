#!/bin/bash
# Server CPU per request, ember-server vs redis-server, side by side under
# redis-benchmark (SET and GET, 50 clients, -P 1 and -P 16).
#
# usage: bench/cpu-per-request.sh [ROUNDS] [REQUESTS]
#   needs a release build (cargo build --release -p ember-runtime-tokio),
#   redis-server and redis-benchmark on PATH.
#
# For each round and pipeline depth it runs redis-benchmark against each server in
# turn and reads the server's CPU time from /proc (schedstat: nanoseconds of all
# threads; utime/stime ticks give the user-space share). Rounds alternate servers so
# background load hits both alike; the medians are printed at the end.
set -euo pipefail
ROUNDS=${1:-7}
N=${2:-200000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
EMBER=${EMBER:-$ROOT/target/release/ember-server}
WORK=$(mktemp -d)
EPORT=$((20000 + RANDOM % 20000)); RPORT=$((EPORT + 1))

"$EMBER" --port $EPORT --bind 127.0.0.1 --save "" --dir "$WORK" > "$WORK/ember.log" 2>&1 &
EPID=$!
redis-server --port $RPORT --bind 127.0.0.1 --save "" --dir "$WORK" > "$WORK/redis.log" 2>&1 &
RPID=$!
trap 'kill $EPID $RPID 2>/dev/null; rm -rf "$WORK"' EXIT
for port in $EPORT $RPORT; do
  for _ in $(seq 100); do redis-cli -p $port ping > /dev/null 2>&1 && break; sleep 0.05; done
done

cpu_ns() { cat /proc/$1/task/*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%d\n", s}'; }
ticks() { awk "{print \$$2}" /proc/$1/stat; }
one() { # port pid pipeline -> "set_ops get_ops ns_per_request user_ns_per_request"
  local a u0 s0 out b u1 s1 tot du ds
  a=$(cpu_ns $2); u0=$(ticks $2 14); s0=$(ticks $2 15)
  out=$(redis-benchmark -p $1 -t set,get -n $N -c 50 -P $3 -q 2>/dev/null | tr '\r' '\n' \
        | grep "requests per second" | awk '{print $2}' | tr '\n' ' ')
  b=$(cpu_ns $2); u1=$(ticks $2 14); s1=$(ticks $2 15)
  tot=$(( (b - a) / (2 * N) )); du=$((u1 - u0)); ds=$((s1 - s0))
  echo "$out $tot $(( tot * du / (du + ds + 1) ))"
}

for P in 1 16; do
  for _ in $(seq $ROUNDS); do
    echo "P=$P ember $(one $EPORT $EPID $P)"
    echo "P=$P redis $(one $RPORT $RPID $P)"
  done
done | tee "$WORK/raw.txt"

python3 - "$WORK/raw.txt" <<'PY'
import collections, statistics, sys
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    p = line.split()
    if len(p) >= 6:
        rows[(p[0], p[1])].append([float(x) for x in p[2:6]])
for (depth, server), v in sorted(rows.items()):
    m = [statistics.median(x[i] for x in v) for i in range(4)]
    print("median %-4s %-5s SET %9.0f GET %9.0f ops/s | server CPU %5.0f ns/request (user %4.0f)"
          % (depth, server, *m))
PY
