#!/bin/bash
# User-space instructions per request (valgrind callgrind), ember-server vs
# redis-server: deterministic where wall-clock CPU is noisy. Each server runs twice
# under callgrind with N and 5N SET+GET requests; the difference divided by the
# extra requests is the marginal cost of one request (startup cancels out).
#
# usage: [TESTS=zadd,zpopmin] bench/instructions-per-request.sh [PIPELINE] [N]
# TESTS are redis-benchmark -t tests (default set,get).
set -euo pipefail
P=${1:-1}
N=${2:-10000}
TESTS=${TESTS:-set,get}
TEST_COUNT=$(echo "$TESTS" | tr ',' '\n' | wc -l)
ROOT=$(cd "$(dirname "$0")/.." && pwd)
EMBER=${EMBER:-$ROOT/target/release/ember-server}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

total() { # binary requests -> instructions of one run
  local port=$((20000 + RANDOM % 20000)) out="$WORK/cg.$RANDOM"
  valgrind --tool=callgrind --callgrind-out-file="$out" "$1" --port $port \
    --bind 127.0.0.1 --save "" --dir "$WORK" > /dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 200); do redis-cli -p $port ping > /dev/null 2>&1 && break; sleep 0.1; done
  redis-benchmark -p $port -t "$TESTS" -n "$2" -c 50 -P "$P" -q > /dev/null 2>&1
  kill -INT $pid; wait $pid 2> /dev/null || true
  callgrind_annotate "$out" 2> /dev/null | grep "PROGRAM TOTALS" | awk '{gsub(",", "", $1); print $1}'
}

for server in "$EMBER" redis-server; do
  small=$(total "$server" "$N")
  large=$(total "$server" $((5 * N)))
  echo "$(basename "$server") $TESTS -P $P: $(( (large - small) / (4 * N * TEST_COUNT) )) instructions per request"
done
