#!/usr/bin/env bash
# `print`'s peak memory for every output format, with and without a filter, beside zcat over
# the same generated archive, in one run, alternating, with medians: the target of "every
# question fast at a million events" that `print` of any filter and any format stays below
# 200 MB.
#
#   bench/print.sh                              1,000,000 events (500 .json.gz files)
#   EVENTS=200000 RUNS=5 bench/print.sh
#   BENCH_DIR=/var/tmp/ts-bench bench/print.sh  keep (or reuse) the generated archive
#   BEFORE=/path/to/older/trailscope bench/print.sh   the same commands with another build too
#
# Output goes to /dev/null; each filter is one the generated archive answers: everything,
# one API call's events, a bucket-name stem in the resource index and in the raw text, and
# nothing at all (the plain load).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

bench_sizes 1000000 2000
FORMATS=(jsonl json csv table)
declare -A FILTERS=([all]="" [name]="name:Delete" [resource]="resource:config-bucket" [text]="text:config-bucket" [none]="id:=none")
FILTER_NAMES=(all name resource text none)

bench_need zcat /usr/bin/time bc
bench_build
export TRAILSCOPE_NO_CACHE=1
bench_dir
bench_archive "$EVENTS" "$PER_FILE"

declare -A CMD
NAMES=(zcat)
CMD[zcat]="zcat ${FILES[*]}"
for f in "${FILTER_NAMES[@]}"; do
    for fmt in "${FORMATS[@]}"; do
        arg=""
        [ -z "${FILTERS[$f]}" ] || arg="--filter '${FILTERS[$f]}'"
        CMD[$fmt/$f]="$TS print --format $fmt $arg $ARCHIVE"
        NAMES+=("$fmt/$f")
        if [ -n "${BEFORE:-}" ]; then
            CMD[$fmt/$f/before]="$BEFORE print --format $fmt $arg $ARCHIVE"
            NAMES+=("$fmt/$f/before")
        fi
    done
done

echo "archive: $EVENTS events, ${#FILES[@]} files; $(nproc) cores; runs: $RUNS; load before: $(load_avg)" >&2
for i in $(seq "$RUNS"); do
    echo "run $i/$RUNS" >&2
    for k in "${NAMES[@]}"; do run "$k" "${CMD[$k]}"; done
done

zc=$(wall zcat)
printf '\n%-24s %10s %8s %12s\n' "what" "median s" "x zcat" "peak RSS MB"
worst=0
for k in "${NAMES[@]}"; do
    printf '%-24s %10.2f %8s %12s\n' "$k" "$(wall "$k")" "$(ratio "$(wall "$k")" "$zc")" "$(mb "$k")"
    case $k in
    */before | zcat) ;;
    *) [ "$(mb "$k")" -le "$worst" ] || worst=$(mb "$k") ;;
    esac
done
printf '\n%-44s %-22s %s\n' "target" "measured" "verdict"
printf '%-44s %-22s %s\n' "print peak RSS < 200 MB, any filter, format" "$worst MB (the highest)" "$(verdict "$worst < 200")"
echo "load after: $(load_avg)"
