#!/bin/sh
# Builds seed corpora for the `rdb`, `restore` and `eval` fuzz targets from real Redis data
# (the corpora themselves are not committed: fuzz/corpus is ignored):
#   corpus/rdb:     the RDB files in ../shared/testdata/redis-rdb/ (Redis 2.x-7.0
#                   encodings) and an RDB the local redis-server saves of the values below;
#   corpus/restore: DUMP payloads of those values, one per key: strings (int, embstr,
#                   raw, LZF), lists, hashes, sets and sorted sets in every encoding;
#   corpus/eval:    every EVAL script of the differential files (mode byte 0: raw source).
# Needs redis-server and redis-cli (apt-get install redis-server redis-tools).
# Usage: fuzz/seed-corpora.sh   (then: cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run restore)
set -eu
cd "$(dirname "$0")"
assets=../../shared/testdata/redis-rdb
work=$(mktemp -d)
sock="$work/redis.sock"
redis-server --port 0 --unixsocket "$sock" --dir "$work" --save '' --daemonize no \
    --logfile "$work/redis.log" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in 1 2 3 4 5 6 7 8 9 10; do
    [ -S "$sock" ] && break
    sleep 0.2
done
cli() { redis-cli -s "$sock" "$@" >/dev/null; }

cli SET s:int 12
cli SET s:int32 -123456789
cli SET s:int64 12345678901234
cli SET s:embstr hello
cli SET s:raw "$(printf 'r%.0s' $(seq 1 50))"
cli SET s:lzf "$(printf 'abcdefgh%.0s' $(seq 1 40))"
cli RPUSH l:small a 1 -2 12345678901 ""
cli RPUSH l:nodes $(seq 1 600 | sed 's/^/element-padding-padding-padding-/')
cli HSET h:listpack f1 v1 n 42 neg -7
cli HSET h:table f "$(printf 'v%.0s' $(seq 1 100))" g 2
cli SADD set:intset 1 2 -3 70000
cli SADD set:intset64 1 5000000000
cli SADD set:table a b 1
cli ZADD z:listpack 1 one 2.5 two -inf low inf high
cli ZADD z:skiplist 3 "$(printf 'm%.0s' $(seq 1 80))" 1 a
# A stream with deleted entries, two blocks, a group with pending entries and consumers.
cli CONFIG SET stream-node-max-entries 2
cli XADD x:stream 1-1 f 1 g a
cli XADD x:stream 1-2 f 2 g b
cli XADD x:stream 2-0 other 3
cli XDEL x:stream 1-2
cli XGROUP CREATE x:stream grp 0
cli XREADGROUP GROUP grp alice COUNT 1 STREAMS x:stream '>'
cli XREADGROUP GROUP grp bob STREAMS x:stream '>'

mkdir -p corpus/rdb corpus/restore
cp "$assets"/*.rdb "$assets"/*.aof corpus/rdb/
cli SAVE
cp "$work/dump.rdb" corpus/rdb/redis-7.0-every-encoding.rdb
for key in $(redis-cli -s "$sock" --raw KEYS '*'); do
    # --raw prints the bulk string then a newline: drop that newline.
    redis-cli -s "$sock" --raw DUMP "$key" | head -c -1 > "corpus/restore/$(echo "$key" | tr ':' '-')"
done
echo "seeded $(ls corpus/rdb | wc -l) rdb and $(ls corpus/restore | wc -l) restore inputs"

# The eval target's input: a mode byte (0: raw source, EVAL), then the script.
mkdir -p corpus/eval
python3 - ../tests/scripts/scripting.txt ../tests/scripts/functions.txt <<'PY'
import sys, hashlib, os
def split(line):
    args, i = [], 0
    while i < len(line):
        if line[i] == ' ':
            i += 1
            continue
        if line[i] == '"':
            i += 1
            arg = bytearray()
            while i < len(line) and line[i] != '"':
                c = line[i]
                if c == '\\' and i + 1 < len(line):
                    n = line[i + 1]
                    if n == 'x':
                        arg.append(int(line[i + 2:i + 4], 16)); i += 4; continue
                    arg += {'n': b'\n', 'r': b'\r', 't': b'\t', '"': b'"', '\\': b'\\'}.get(n, n.encode())
                    i += 2
                    continue
                arg += c.encode(); i += 1
            i += 1
            args.append(bytes(arg))
        else:
            j = line.find(' ', i)
            j = len(line) if j < 0 else j
            args.append(line[i:j].encode()); i = j
    return args
count = 0
for path in sys.argv[1:]:
    for line in open(path, encoding='utf-8'):
        if not line.upper().startswith('EVAL "'):
            continue
        args = split(line.rstrip('\n'))
        if len(args) < 2:
            continue
        data = b'\x00' + args[1]
        name = hashlib.sha1(data).hexdigest()
        with open(os.path.join('corpus/eval', name), 'wb') as f:
            f.write(data)
        count += 1
print(f"seeded {count} eval inputs")
PY
