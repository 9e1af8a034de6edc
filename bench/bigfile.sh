#!/usr/bin/env bash
# One big file against many small ones: the same generated events as 500 .json.gz trail logs, as
# one JSON Lines file (what `print --format jsonl` writes, about 1.1 GB at 1M events) and as one
# trail log (`{"Records":[...]}` of the same lines), loaded headless and in the TUI, beside zcat
# over the archive, in one run, alternating, with medians.
#
#   bench/bigfile.sh                   1,000,000 events
#   EVENTS=200000 RUNS=5 bench/bigfile.sh
#   BENCH_DIR=/var/tmp/ts-bench bench/bigfile.sh     keep (or reuse) the generated inputs
#
# Headless: `print --format jsonl --filter 'id:=none'` (load, match nothing, write nothing), wall,
# user CPU and peak RSS. The TUI (with tmux, bench/tui.sh): the first events on screen, the whole
# load, peak RSS. Then the reopen of the big file with its stored archive index (REOPEN=0 skips).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

bench_sizes 1000000 2000
bench_need zcat /usr/bin/time bc
bench_build
export TRAILSCOPE_NO_CACHE=1
bench_dir
bench_archive "$EVENTS" "$PER_FILE"
BIG="$DIR/all-$EVENTS.jsonl"
if [ ! -f "$BIG" ]; then
    "$TS" print --format jsonl "$ARCHIVE" > "$BIG.tmp" && mv "$BIG.tmp" "$BIG"
fi
TRAIL="$DIR/all-$EVENTS.trail.json"
if [ ! -f "$TRAIL" ]; then
    { printf '{"Records":['; sed '$!s/$/,/' "$BIG" | tr -d '\n'; printf ']}\n'; } > "$TRAIL.tmp" && mv "$TRAIL.tmp" "$TRAIL"
fi
declare -A TUI

echo "inputs: $EVENTS events; ${#FILES[@]} files; one file of $(stat -c %s "$BIG") bytes; $(nproc) cores; runs: $RUNS" >&2
echo "load before: $(load_avg)" >&2
for i in $(seq "$RUNS"); do
    echo "run $i/$RUNS" >&2
    run zcat "zcat ${FILES[*]} > /dev/null"
    run many "$TS print --format jsonl --filter 'id:=none' $ARCHIVE"
    run one "$TS print --format jsonl --filter 'id:=none' $BIG"
    run trail "$TS print --format jsonl --filter 'id:=none' $TRAIL"
    if command -v tmux >/dev/null; then
        for k in many one trail; do
            input=$ARCHIVE; [ $k = one ] && input=$BIG; [ $k = trail ] && input=$TRAIL
            read -r first load rss _ < <(bench/tui.sh "$TS" "$input")
            TUI[$k-first]+="$first "; TUI[$k-load]+="$load "; TUI[$k-rss]+="$rss "
            echo "  TUI $k: first ${first} ms, load ${load} s, $((rss / 1024)) MB" >&2
        done
    fi
done

printf '\n%-34s %10s %10s %12s\n' "headless" "median s" "user s" "peak RSS MB"
for k in zcat many one trail; do
    printf '%-34s %10.2f %10.2f %12.0f\n' "$k" "$(wall "$k")" "$(user "$k")" "$(mb "$k")"
done
zc=$(wall zcat); many=$(wall many); one=$(wall one); trail=$(wall trail)
r=$(ratio "$one" "$many")
printf '\n%-50s %-22s %s\n' "target" "measured" "verdict"
printf '%-50s %-22s %s\n' "one big file loads within the time of many" "$r x" "$(verdict "$r <= 1.0")"
r=$(ratio "$trail" "$many")
printf '%-50s %-22s %s\n' "one big trail log loads within the time of many" "$r x" "$(verdict "$r <= 1.0")"
printf '%-50s %-22s\n' "one big file beside zcat over the archive" "$(ratio "$one" "$zc") x"
printf '%-50s %-22s\n' "many small files beside zcat" "$(ratio "$many" "$zc") x"
one_rss=$(mb one); many_rss=$(mb many)
printf '%-50s %-22s %s\n' "one big file: peak RSS within that of many" "$one_rss MB / $many_rss MB" \
    "$(verdict "$one_rss <= $many_rss + 10")"
trail_rss=$(mb trail)
printf '%-50s %-22s %s\n' "one big trail log: peak RSS within that of many" "$trail_rss MB / $many_rss MB" \
    "$(verdict "$trail_rss <= $many_rss + 10")"
if [ -n "${TUI[one-first]:-}" ]; then
    for k in many one trail; do
        printf '%-50s %-22s\n' "TUI $k: first events / whole load / peak" \
            "$(echo "${TUI[$k-first]}" | median) ms / $(echo "${TUI[$k-load]}" | median) s / $(($(echo "${TUI[$k-rss]}" | median | cut -d. -f1) / 1024)) MB"
    done
    f=$(echo "${TUI[one-first]}" | median)
    printf '%-50s %-22s %s\n' "TUI on the big file: first events <= 200 ms" "$f ms" "$(verdict "$f <= 200")"
    f=$(echo "${TUI[trail-first]}" | median)
    printf '%-50s %-22s %s\n' "TUI on the big trail log: first events <= 200 ms" "$f ms" "$(verdict "$f <= 200")"
fi
echo "load after: $(load_avg)"

if [ "${REOPEN:-1}" != 0 ]; then
    CACHE="$DIR/cache-bigfile"
    rm -rf "$CACHE"
    WITH="env -u TRAILSCOPE_NO_CACHE $TS print --cache-dir $CACHE --format jsonl --filter 'id:=none' $BIG"
    run first_open "$WITH"
    for i in $(seq "$RUNS"); do run reopen "$WITH"; done
    printf '\n%-50s %-22s\n' "big file: first open with the cache (builds index)" "$(wall first_open) s"
    printf '%-50s %-22s\n' "big file: reopen with the stored index" "$(wall reopen) s, $(mb reopen) MB"
    rm -rf "$CACHE"
fi
