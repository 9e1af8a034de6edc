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
. bench/lib.sh

bench_sizes 1000000 2000
JQ_RUNS=${JQ_RUNS:-1}

bench_need zcat jq /usr/bin/time bc
bench_build
# The runs above the cache section measure decompressing and parsing: no stored archive index.
export TRAILSCOPE_NO_CACHE=1
bench_dir
bench_archive "$EVENTS" "$PER_FILE"
JSON_BYTES=$(zcat "${FILES[@]}" | wc -c)

Z="zcat ${FILES[*]} > /dev/null"
INGEST="$TS print --format jsonl --filter 'id:=none' $ARCHIVE"
FULL="$TS print --format jsonl $ARCHIVE"
JQ="zcat ${FILES[*]} | jq -c '.Records[]'"

echo "archive: $EVENTS events, ${#FILES[@]} files, $JSON_BYTES bytes of JSON; $(nproc) cores; runs: $RUNS (jq: $JQ_RUNS)" >&2
echo "load before: $(load_avg)" >&2
declare -A TUI
for i in $(seq "$RUNS"); do
    echo "run $i/$RUNS" >&2
    run zcat "$Z"
    run ingest "$INGEST"
    run full "$FULL"
    if command -v tmux >/dev/null; then
        read -r first load rss anon < <(bench/tui.sh "$TS" "$ARCHIVE")
        TUI[first]+="$first "
        TUI[load]+="$load "
        TUI[rss]+="$rss "
        TUI[anon]+="$anon "
    fi
done
for i in $(seq "$JQ_RUNS"); do
    run jq "$JQ"
done

printf '\n%-28s %10s %12s\n' "what" "median s" "peak RSS MB"
for k in zcat ingest full jq; do
    printf '%-28s %10.2f %12.0f\n' "$k" "$(wall "$k")" "$(mb "$k")"
done
for k in zcat ingest full jq; do
    printf '%-28s each run: %s\n' "$k" "${WALL[$k]}"
done
zc=$(wall zcat); ing=$(wall ingest); full=$(wall full); jq=$(wall jq)
ing_rss=$(mb ingest); full_rss=$(mb full)
r1=$(ratio "$ing" "$zc"); r2=$(ratio "$jq" "$ing"); r3=$(ratio "$jq" "$full")
printf '\n%-44s %-22s %s\n' "target" "measured" "verdict"
printf '%-44s %-22s %s\n' "ingest <= 0.5 x zcat" "$r1 x" "$(verdict "$r1 <= 0.5")"
printf '%-44s %-22s %s\n' "ingest <= 0.3 x zcat" "$r1 x" "$(verdict "$r1 <= 0.3")"
printf '%-44s %-22s %s\n' "ingest >= 20 x faster than zcat | jq" "$r2 x" "$(verdict "$r2 >= 20")"
printf '%-44s %-22s %s\n' "full jsonl >= 10 x faster than jq" "$r3 x" "$(verdict "$r3 >= 10")"
printf '%-44s %-22s %s\n' "headless load peak RSS < 250 MB" "$ing_rss MB" "$(verdict "$ing_rss < 250")"
printf '%-44s %-22s %s\n' "print peak RSS < 200 MB (load, full jsonl)" "$ing_rss MB, $full_rss MB" \
    "$(verdict "$ing_rss < 200 && $full_rss < 200")"
if [ -n "${TUI[first]:-}" ]; then
    tf=$(echo "${TUI[first]}" | median); tl=$(echo "${TUI[load]}" | median)
    tr=$(echo "$(echo "${TUI[rss]}" | median) / 1024" | bc); ta=$(echo "$(echo "${TUI[anon]}" | median) / 1024" | bc)
    printf '%-44s %-22s %s\n' "TUI first events on screen <= 200 ms" "$tf ms" "$(verdict "$tf <= 200")"
    printf '%-44s %-22s %s\n' "TUI peak RSS < 250 MB (all loaded)" "$tr MB" "$(verdict "$tr < 250")"
    printf '%-44s %-22s %s\n' "TUI peak RSS < 150 MB (all loaded)" "$tr MB" "$(verdict "$tr < 150")"
    printf '%-44s %-22s\n' "TUI anonymous RSS once loaded" "$ta MB"
    printf '%-44s %-22s\n' "TUI whole load (status bar)" "$tl s"
fi
echo "load after: $(load_avg)"

# --- Reopening with the cache: the stored archive index and the stored load ---------------------
# `ingest` with the cache: once to build the index and store the load (first open), then RUNS
# rounds of: a reopen without the cache; a reopen after one file's modification time changed
# (the stored load does not stand for it: the index is read, the changed file parsed, and the
# load stored again); and a reopen of the same files (the stored load is read back). Skip with
# REOPEN=0.
if [ "${REOPEN:-1}" != 0 ]; then
    CACHE="$DIR/cache"
    rm -rf "$CACHE"
    WITH="env -u TRAILSCOPE_NO_CACHE $TS print --cache-dir $CACHE --format jsonl --filter 'id:=none' $ARCHIVE"
    echo "reopen: building the index" >&2
    run first_open "$WITH"
    for i in $(seq "$RUNS"); do
        echo "reopen run $i/$RUNS" >&2
        run reopen_without_cache "$INGEST"
        touch "${FILES[0]}"
        run reopen_with_index "$WITH"
        run reopen_stored_load "$WITH"
    done
    printf '\n%-28s %10s %12s\n' "reopen" "median s" "peak RSS MB"
    for k in first_open reopen_without_cache reopen_with_index reopen_stored_load; do
        printf '%-28s %10.2f %12.0f\n' "$k" "$(wall "$k")" "$(mb "$k")"
    done
    printf 'cache size: %s (stored loads: %s)\n' "$(du -sh "$CACHE" | cut -f1)" "$(du -sh "$CACHE/loads" | cut -f1)"
fi
