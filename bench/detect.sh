#!/usr/bin/env bash
# Detections at archive scale: the 57 SigmaHQ CloudTrail rules (../shared/sigma/rules) over the
# generated archive, beside the plain load, in one run, alternating, with medians.
#
#   bench/detect.sh                    1,000,000 events (500 .json.gz files)
#   EVENTS=200000 RUNS=3 bench/detect.sh
#   BENCH_DIR=/var/tmp/ts-bench bench/detect.sh     keep (or reuse) the generated archive
#
# Headless: `print --filter 'id:=none'` (load, match nothing, write nothing) against
# `detect --format table` (load, each record evaluated as it is parsed), wall and user CPU. The TUI (with
# tmux): the first screen and the load's time with and without --rules, and how long after
# the start every event has been evaluated (the status bar's "flagged by N rules").
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

bench_sizes 1000000 2000
RULES=${RULES:-../shared/sigma/rules}
[ -d "$RULES" ] || { echo "bench: the rules are missing: $RULES" >&2; exit 2; }

bench_need /usr/bin/time bc
bench_build
export TRAILSCOPE_NO_CACHE=1
bench_dir
bench_archive "$EVENTS" "$PER_FILE"

# The TUI in a private tmux session: first_ms load_s evaluated_s (evaluated_s: "-" without rules).
tui() { # extra args
    local work sock start first="" load="" done_s="-"
    work=$(mktemp -d); sock=$work/tmux.sock
    start=$(date +%s%3N)
    tmux -S "$sock" new-session -d -x 160 -y 40 "exec $TS --config /dev/null $* $ARCHIVE"
    for _ in $(seq 4000); do
        if tmux -S "$sock" capture-pane -p | grep -qE '20[0-9]{2}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}Z'; then
            first=$(($(date +%s%3N) - start)); break
        fi
        sleep 0.005
    done
    for _ in $(seq 12000); do
        local screen; screen=$(tmux -S "$sock" capture-pane -p)
        if [ -z "$load" ] && line=$(echo "$screen" | grep -oE ' in [0-9]+\.[0-9]s'); then
            load=$(echo "$line" | grep -oE '[0-9]+\.[0-9]')
            [ $# -eq 0 ] && break
        fi
        if [ $# -gt 0 ] && echo "$screen" | grep -q 'flagged by'; then
            done_s=$(echo "scale=1; ($(date +%s%3N) - $start) / 1000" | bc); break
        fi
        sleep 0.05
    done
    tmux -S "$sock" kill-server >/dev/null 2>&1 || true
    rm -rf "$work"
    echo "$first $load $done_s"
}

for i in $(seq "$RUNS"); do
    echo "run $i/$RUNS" >&2
    run load "$TS print --format jsonl --filter 'id:=none' $ARCHIVE"
    run detect "$TS detect --rules $RULES --format table $ARCHIVE"
done
load=$(wall load); detect=$(wall detect)
echo "headless wall: load ${load}s, detect ${detect}s: +$(echo "scale=0; ($detect - $load) * 100 / $load" | bc)%"
load=$(user load); detect=$(user detect)
echo "headless user: load ${load}s, detect ${detect}s: +$(echo "scale=0; ($detect - $load) * 100 / $load" | bc)%"
if command -v tmux >/dev/null; then
    for i in $(seq "$RUNS"); do
        echo "tui without rules: first_ms load_s -: $(tui)"
        echo "tui with rules:    first_ms load_s evaluated_s: $(tui --rules "$RULES")"
    done
fi
