#!/usr/bin/env bash
# Deep terms in `print`: `resource:` (the resource index) and `text:` (the raw records) beside
# the plain load and zcat over the same generated archive, in one run, alternating, with
# medians, peak RSS and the targets of "every question fast at a million events".
#
#   bench/deep.sh                          1,000,000 events (500 .json.gz files)
#   EVENTS=200000 RUNS=5 bench/deep.sh
#   BENCH_DIR=/var/tmp/ts-bench bench/deep.sh     keep (or reuse) the generated archive
#   BEFORE=/path/to/older/trailscope bench/deep.sh    the same commands with another build too
#
# The value searched for is a bucket-name stem the generator uses (`config-bucket`); jq
# counts the same events once (`.. | strings` under requestParameters, resources[].ARN).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

bench_sizes 1000000 2000
VALUE=${VALUE:-config-bucket}

bench_need zcat jq /usr/bin/time bc
bench_build
export TRAILSCOPE_NO_CACHE=1
bench_dir
bench_archive "$EVENTS" "$PER_FILE"

declare -A CMD
CMD[zcat]="zcat ${FILES[*]}"
CMD[load]="$TS print --format jsonl --filter 'id:=none' $ARCHIVE"
CMD[resource]="$TS print --format jsonl --filter 'resource:$VALUE' $ARCHIVE"
CMD[text]="$TS print --format jsonl --filter 'text:$VALUE' $ARCHIVE"
NAMES=(zcat load resource text)
if [ -n "${BEFORE:-}" ]; then
    CMD[load_before]="$BEFORE print --format jsonl --filter 'id:=none' $ARCHIVE"
    CMD[resource_before]="$BEFORE print --format jsonl --filter 'resource:$VALUE' $ARCHIVE"
    CMD[text_before]="$BEFORE print --format jsonl --filter 'text:$VALUE' $ARCHIVE"
    NAMES+=(load_before resource_before text_before)
fi

echo "archive: $EVENTS events, ${#FILES[@]} files; $(nproc) cores; runs: $RUNS; load before: $(load_avg)" >&2
for i in $(seq "$RUNS"); do
    echo "run $i/$RUNS" >&2
    for k in "${NAMES[@]}"; do run "$k" "${CMD[$k]}"; done
done

printf '\n%-18s %10s %12s   %s\n' "what" "median s" "peak RSS MB" "each run (s)"
for k in "${NAMES[@]}"; do
    printf '%-18s %10.2f %12.0f   %s\n' "$k" "$(wall "$k")" "$(mb "$k")" "${WALL[$k]}"
done

# The answers: the same events as jq finds.
ours_r=$(bash -c "${CMD[resource]}" | wc -l)
ours_t=$(bash -c "${CMD[text]}" | wc -l)
jq_r=$(zcat "${FILES[@]}" | jq -c --arg v "$VALUE" '.Records[] | select(([.resources[]?.ARN | strings] + [.requestParameters | .. | strings]) | map(ascii_downcase | contains($v)) | any)' | wc -l)
echo "resource:$VALUE: $ours_r events (jq: $jq_r); text:$VALUE: $ours_t events"

r1=$(ratio "$(wall resource)" "$(wall load)")
r2=$(ratio "$(wall text)" "$(wall zcat)")
printf '\n%-48s %-12s %s\n' "target" "measured" "verdict"
printf '%-48s %-12s %s\n' "print resource: <= plain load + 10%" "$r1 x" "$(verdict "$r1 <= 1.10")"
printf '%-48s %-12s %s\n' "print text: <= 1.0 x zcat" "$r2 x" "$(verdict "$r2 <= 1.0")"
printf '%-48s %-12s %s\n' "same events as jq (resource:)" "$ours_r/$jq_r" "$(verdict "$ours_r == $jq_r")"
for k in load resource text; do
    printf '%-48s %-12s %s\n' "print $k: peak RSS < 200 MB" "$(mb $k) MB" "$(verdict "$(mb $k) < 200")"
done
echo "load after: $(load_avg)"
