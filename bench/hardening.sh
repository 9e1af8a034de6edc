#!/usr/bin/env bash
# Memory on hostile inputs, and `print -` beside reading the same content from a file.
#
# Peak RSS (from /usr/bin/time) of `trailscope print --filter id:=none` on each input:
#   zeros.json.gz     4 GiB of zeros, gzip-compressed (refused from its first bytes)
#   string.json.gz    one record whose userAgent is a 3 GiB string (over --max-record-size)
#   same.json.gz      10M copies of one record (kept once)
#   four-zeros/       four copies of zeros.json.gz in one directory (loaded in parallel)
#   big.json          a plain 2 GB JSON Lines file (read as a stream)
# Then the throughput of `print -` on about 1 GB of JSON Lines against `print FILE` of the
# same file, alternating, RUNS times each.
#
#   bench/hardening.sh
#   BENCH_DIR=/var/tmp/ts-hard bench/hardening.sh     keep the generated inputs between runs
#   BUILD=0 TS=target/release/trailscope bench/hardening.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

RUNS=${RUNS:-3}
bench_need /usr/bin/time python3 gzip
bench_build
export TRAILSCOPE_NO_CACHE=1
bench_dir

# One real-looking record, from the generator, as one line.
if [ ! -f "$DIR/one.json" ]; then
    "$GEN" --events 1 --per-file 1 --seed 3 --no-digests "$DIR/one-archive" >&2
    find "$DIR/one-archive" -name '*.json.gz' -exec zcat {} + |
        python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["Records"][0]))' >"$DIR/one.json"
fi
[ -f "$DIR/zeros.json.gz" ] || head -c 4294967296 /dev/zero | gzip -1 >"$DIR/zeros.json.gz"
if [ ! -d "$DIR/four-zeros" ]; then
    mkdir -p "$DIR/four-zeros"
    for i in 1 2 3 4; do cp "$DIR/zeros.json.gz" "$DIR/four-zeros/z$i.json.gz"; done
fi
if [ ! -f "$DIR/string.json.gz" ]; then
    python3 - "$DIR/one.json" <<'EOF' | gzip -1 >"$DIR/string.json.gz"
import json, sys
rec = json.load(open(sys.argv[1]))
head, tail = json.dumps({"Records": [dict(rec, userAgent="@@")]}).split('"@@"')
out = sys.stdout.buffer
out.write(head.encode() + b'"')
chunk = b"A" * (1 << 24)
for _ in range(3 * 64):  # 3 GiB
    out.write(chunk)
out.write(b'"' + tail.encode())
EOF
fi
if [ ! -f "$DIR/same.json.gz" ]; then
    python3 - "$DIR/one.json" <<'EOF' | gzip -1 >"$DIR/same.json.gz"
import sys
line = open(sys.argv[1], "rb").read().strip() + b"\n"
out = sys.stdout.buffer
block = line * 10000
for _ in range(1000):  # 10M records
    out.write(block)
EOF
fi
# JSON Lines of the generated million events (about 1.1 GB), for the plain file and stdin.
if [ ! -f "$DIR/big.jsonl" ]; then
    "$GEN" --events 1000000 --per-file 2000 --seed 1 --no-digests --span 30d "$DIR/archive" >&2
    "$TS" print --format jsonl "$DIR/archive" >"$DIR/big.jsonl"
fi
if [ ! -f "$DIR/big.json" ]; then
    # Whole lines of the million events, repeated, up to 2 GB.
    python3 - "$DIR/big.jsonl" <<'EOF2' >"$DIR/big.json"
import sys
data = open(sys.argv[1], "rb").read()
out, left = sys.stdout.buffer, 2_000_000_000
while left > 0:
    part = data[:left]
    part = part[: part.rfind(b"\n") + 1] if len(part) < len(data) else part
    if not part:
        break
    out.write(part)
    left -= len(part)
EOF2
fi

measure() { # label command: wall seconds and peak RSS (MB), and the exit status
    local t="$DIR/.time" rc=0
    /usr/bin/time -o "$t" -f '%e %M' bash -c "$2" >/dev/null 2>"$DIR/.err" || rc=$?
    read -r wall kb < <(tail -1 "$t")
    printf '%-42s %8s s %8d MB  exit %s  %s\n' "$1" "$wall" $((kb / 1024)) "$rc" \
        "$(grep -m1 -o 'skipped: .*' "$DIR/.err" | cut -c1-90 || true)"
}

echo "load before: $(load_avg); $(nproc) cores" >&2
printf '%-42s %10s %11s\n' "input (print --filter id:=none)" "wall" "peak RSS"
measure "4 GiB of zeros in 18 MB of gzip" "$TS print --filter id:=none $DIR/zeros.json.gz"
measure "four of them in one directory" "$TS print --filter id:=none $DIR/four-zeros"
measure "one record holding a 3 GiB string" "$TS print --filter id:=none $DIR/string.json.gz"
measure "10M copies of one record" "$TS print --filter id:=none $DIR/same.json.gz"
measure "a plain 2 GB JSON Lines file" "$TS print --filter id:=none $DIR/big.json"

BYTES=$(stat -c %s "$DIR/big.jsonl")
echo
echo "print of $BYTES bytes of JSON Lines, every record written back ($RUNS runs each, alternating):"
declare -a FILE STDIN
for i in $(seq "$RUNS"); do
    /usr/bin/time -o "$DIR/.t" -f '%e' "$TS" print --format jsonl "$DIR/big.jsonl" >/dev/null 2>&1 || true
    f=$(tail -1 "$DIR/.t")
    /usr/bin/time -o "$DIR/.t" -f '%e' bash -c "$TS print --format jsonl - <$DIR/big.jsonl" >/dev/null 2>&1 || true
    s=$(tail -1 "$DIR/.t")
    FILE+=("$f")
    STDIN+=("$s")
    echo "  run $i: file $f s, stdin $s s"
done
mf=$(echo "${FILE[*]}" | median)
ms=$(echo "${STDIN[*]}" | median)
echo "median: file $mf s, stdin $ms s; stdin's speed is $(echo "scale=2; $mf / $ms" | bc)x the file's (target: at least 0.5x)"
echo "load after: $(load_avg)" >&2
