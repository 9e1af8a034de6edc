#!/usr/bin/env bash
# Archive-scale benchmark: trailscope beside zcat and jq on the same generated archive, in one
# run, alternating, with medians and ratios. See BENCHMARKS.md for figures and method.
#
#   bench/run.sh                 1,000,000 events (about 1.1 GB of JSON in 500 .json.gz files)
#   EVENTS=200000 RUNS=5 bench/run.sh
#   BENCH_DIR=/var/tmp/ts-bench bench/run.sh     keep the generated archive between runs
#
# With tmux installed, each run also starts the TUI on the archive (bench/tui.sh): time to the
# first events on screen, the whole load, and peak RSS. The last lines say which targets are met.
set -euo pipefail
cd "$(dirname "$0")/.."

EVENTS=${EVENTS:-1000000}
PER_FILE=${PER_FILE:-2000}
RUNS=${RUNS:-3}
JQ_RUNS=${JQ_RUNS:-1}

for tool in zcat jq /usr/bin/time bc; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is needed (apt-get install gzip jq time)" >&2; exit 2; }
done

cargo build --release -p trailscope -p trailscope-gen >&2
# TS=/path/to/another/build measures that one instead (e.g. an older commit's, for before/after).
TS=${TS:-target/release/trailscope}
# The runs above the cache section measure decompressing and parsing: no stored archive index.
export TRAILSCOPE_NO_CACHE=1

DIR=${BENCH_DIR:-$(mktemp -d)}
[ -n "${BENCH_DIR:-}" ] || trap 'rm -rf "$DIR"' EXIT
ARCHIVE="$DIR/archive-$EVENTS-$PER_FILE"
if [ ! -d "$ARCHIVE" ]; then
    target/release/trailscope-gen --events "$EVENTS" --per-file "$PER_FILE" --seed 1 --no-digests --span 30d "$ARCHIVE" >&2
fi
mapfile -t FILES < <(find "$ARCHIVE" -name '*.json.gz' | sort)
JSON_BYTES=$(zcat "${FILES[@]}" | wc -c)

# wall seconds and peak RSS (KB) of a command, via /usr/bin/time
measure() {
    local t="$DIR/.time"
    /usr/bin/time -o "$t" -f '%e %M' bash -c "$1" >/dev/null 2>/dev/null || true
    tail -1 "$t"
}

declare -A WALL RSS
run() { # name command
    local r
    r=$(measure "$2")
    WALL[$1]+="${r% *} "
    RSS[$1]+="${r#* } "
}

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

Z="zcat ${FILES[*]} > /dev/null"
INGEST="$TS print --format jsonl --filter 'id:=none' $ARCHIVE"
FULL="$TS print --format jsonl $ARCHIVE"
JQ="zcat ${FILES[*]} | jq -c '.Records[]'"

echo "archive: $EVENTS events, ${#FILES[@]} files, $JSON_BYTES bytes of JSON; $(nproc) cores; runs: $RUNS (jq: $JQ_RUNS)" >&2
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
declare -A TUI
for i in $(seq "$RUNS"); do
    echo "run $i/$RUNS" >&2
    run zcat "$Z"
    run ingest "$INGEST"
    run full "$FULL"
    if command -v tmux >/dev/null; then
        read -r first load rss _ < <(bench/tui.sh "$TS" "$ARCHIVE")
        TUI[first]+="$first "
        TUI[load]+="$load "
        TUI[rss]+="$rss "
    fi
done
for i in $(seq "$JQ_RUNS"); do
    run jq "$JQ"
done

printf '\n%-28s %10s %12s\n' "what" "median s" "peak RSS MB"
for k in zcat ingest full jq; do
    w=$(echo "${WALL[$k]}" | median)
    r=$(echo "${RSS[$k]}" | median)
    printf '%-28s %10.2f %12.0f\n' "$k" "$w" "$(echo "$r / 1024" | bc -l)"
done
for k in zcat ingest full jq; do
    printf '%-28s each run: %s\n' "$k" "${WALL[$k]}"
done
zc=$(echo "${WALL[zcat]}" | median); ing=$(echo "${WALL[ingest]}" | median)
full=$(echo "${WALL[full]}" | median); jq=$(echo "${WALL[jq]}" | median)
ratio() { echo "scale=3; $1 / $2" | bc -l; }
verdict() { if [ "$(echo "$1" | bc -l)" = 1 ]; then echo "met"; else echo "NOT met"; fi; }
ing_rss=$(echo "$(echo "${RSS[ingest]}" | median) / 1024" | bc)
r1=$(ratio "$ing" "$zc"); r2=$(ratio "$jq" "$ing"); r3=$(ratio "$jq" "$full")
printf '\n%-44s %-22s %s\n' "target" "measured" "verdict"
printf '%-44s %-22s %s\n' "ingest <= 0.5 x zcat" "$r1 x" "$(verdict "$r1 <= 0.5")"
printf '%-44s %-22s %s\n' "ingest >= 20 x faster than zcat | jq" "$r2 x" "$(verdict "$r2 >= 20")"
printf '%-44s %-22s %s\n' "full jsonl >= 10 x faster than jq" "$r3 x" "$(verdict "$r3 >= 10")"
printf '%-44s %-22s %s\n' "headless load peak RSS < 250 MB" "$ing_rss MB" "$(verdict "$ing_rss < 250")"
if [ -n "${TUI[first]:-}" ]; then
    tf=$(echo "${TUI[first]}" | median); tl=$(echo "${TUI[load]}" | median)
    tr=$(echo "$(echo "${TUI[rss]}" | median) / 1024" | bc)
    printf '%-44s %-22s %s\n' "TUI first events on screen <= 200 ms" "$tf ms" "$(verdict "$tf <= 200")"
    printf '%-44s %-22s %s\n' "TUI peak RSS < 250 MB (all loaded)" "$tr MB" "$(verdict "$tr < 250")"
    printf '%-44s %-22s\n' "TUI whole load (status bar)" "$tl s"
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

# --- Reopening with the stored archive index (the cache) ---------------------------------------
# `ingest` with the cache: once to build the index (first open), then RUNS reopens that use it,
# beside RUNS reopens without it. Skip with REOPEN=0.
if [ "${REOPEN:-1}" != 0 ]; then
    CACHE="$DIR/cache"
    rm -rf "$CACHE"
    WITH="env -u TRAILSCOPE_NO_CACHE $TS print --cache-dir $CACHE --format jsonl --filter 'id:=none' $ARCHIVE"
    echo "reopen: building the index" >&2
    run first_open "$WITH"
    for i in $(seq "$RUNS"); do
        echo "reopen run $i/$RUNS" >&2
        run reopen_without_index "$INGEST"
        run reopen_with_index "$WITH"
    done
    printf '\n%-28s %10s %12s\n' "reopen" "median s" "peak RSS MB"
    for k in first_open reopen_without_index reopen_with_index; do
        w=$(echo "${WALL[$k]}" | median)
        r=$(echo "${RSS[$k]}" | median)
        printf '%-28s %10.2f %12.0f\n' "$k" "$w" "$(echo "$r / 1024" | bc -l)"
    done
    printf 'index size: %s\n' "$(du -sh "$CACHE" | cut -f1)"
fi
