#!/usr/bin/env bash
# Trail archives straight from S3, against a local S3 server (moto_server) on loopback, in one
# run, alternating, with medians:
#
#   local     print of the archive from local disk (the baseline)
#   s3        print of the same archive from the server (s3://, no cache)
#   get       the server alone: a plain parallel GET of every object (curl, 16 at a time)
#   sync      what users do today: `aws s3 sync` of the prefix, then print of the local copy
#   day       a one-day window of the 30-day archive: objects fetched against the day's files
#
# and, with tmux, the TUI on s3:// (time to the first events on screen, whole load).
#
#   bench/s3.sh                      100,000 events (50 .json.gz files over 30 days)
#   EVENTS=1000000 RUNS=3 bench/s3.sh
#   TS=target/debug/trailscope bench/s3.sh    another build (the default builds release)
#
# moto keeps objects in memory and serves them from Python: it is the S3 server the tests use
# (PyPI moto[server]), so the figures are for that server; `get` measures what it costs alone.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

bench_sizes 100000 2000
bench_need moto_server aws curl /usr/bin/time bc
# TS=another build measures that one, with the generator beside it, and builds nothing.
[ -z "${TS:-}" ] || BUILD=${BUILD:-0}
GEN=${GEN:-$(dirname "${TS:-target/release/trailscope}")/trailscope-gen}
bench_build

DIR=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
moto_server -H 127.0.0.1 -p "$PORT" >"$DIR/moto.log" 2>&1 &
MOTO=$!
trap 'kill $MOTO 2>/dev/null || true; rm -rf "$DIR"' EXIT
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
export TRAILSCOPE_NO_CACHE=1
URL=http://127.0.0.1:$PORT
for _ in $(seq 100); do curl -s -o /dev/null "$URL/moto-api/" && break; sleep 0.1; done

ARCHIVE=$DIR/archive
"$GEN" --events "$EVENTS" --per-file "$PER_FILE" --seed 1 --no-digests --span 30d "$ARCHIVE" >&2
aws --endpoint-url "$URL" s3 mb s3://bench >/dev/null
aws --endpoint-url "$URL" s3 cp --recursive --quiet "$ARCHIVE" s3://bench/trail/
mapfile -t KEYS < <(cd "$ARCHIVE" && find . -name '*.json.gz' | sed 's|^\./||' | sort)
printf '%s\n' "${KEYS[@]/#/$URL/bench/trail/}" >"$DIR/urls"
WINDOW="--since 2025-12-01T00:00:00Z --until 2026-01-01T00:00:00Z"

echo "archive: $EVENTS events, ${#KEYS[@]} objects; server: moto_server $(python3 -c 'import moto; print(moto.__version__)') on loopback; $(nproc) cores; runs: $RUNS" >&2
declare -A TUI
for i in $(seq "$RUNS"); do
    echo "run $i/$RUNS" >&2
    run local "$TS print $WINDOW $ARCHIVE"
    run s3 "$TS print --endpoint-url $URL $WINDOW s3://bench/trail"
    run get "xargs -P 16 -n 1 curl -s -o /dev/null < $DIR/urls"
    run sync "rm -rf $DIR/synced && aws --endpoint-url $URL s3 sync --quiet s3://bench/trail $DIR/synced && $TS print $WINDOW $DIR/synced"
    if command -v tmux >/dev/null; then
        read -r first load _ < <(bench/tui.sh "$TS" "--endpoint-url $URL $WINDOW s3://bench/trail")
        TUI[first]+="$first "
        TUI[load]+="$load "
    fi
done

printf '\n%-40s %10s   %s\n' "what" "median s" "each run"
for k in local s3 get sync; do
    printf '%-40s %10.2f   %s\n' "$k" "$(wall "$k")" "${WALL[$k]}"
done
loc=$(wall local); s3=$(wall s3); get=$(wall get)
limit=$(echo "1.5 * ($loc + $get)" | bc -l)
printf '\n%-52s %-22s %s\n' "target" "measured" "verdict"
printf '%-52s %-22s %s\n' "s3 <= 1.5 x (local + server alone)" "$s3 s <= $(printf %.2f "$limit") s" "$(verdict "$s3 <= $limit")"
if [ -n "${TUI[first]:-}" ]; then
    f=$(echo "${TUI[first]}" | median)
    printf '%-52s %-22s %s\n' "TUI first events on screen <= 1 s" "$f ms" "$(verdict "$f <= 1000")"
    printf '%-52s %s\n' "TUI whole load (status bar)" "$(echo "${TUI[load]}" | median) s"
fi
# One day of the 30: the objects fetched against the files of that day (plus the lag).
out=$("$TS" print --endpoint-url "$URL" --since 2025-12-15T00:00:00Z --until 2025-12-15T23:59:59Z --format csv s3://bench/trail 2>&1 >/dev/null || true)
fetched=$(echo "$out" | grep -oE '[0-9]+ of [0-9]+ objects fetched' | head -1 || true)
day_files=$(printf '%s\n' "${KEYS[@]}" | grep -cE '_2025121(5T|6T00)' || true)
printf '%-52s %-22s\n' "one-day window: objects fetched" "$fetched (day + lag: $day_files files)"
