#!/usr/bin/env bash
# How long a key takes to show on screen: trailscope with the generated archive loaded, in a
# private 120x40 tmux session, one row down (`j`) at a time, beside less over a file of the
# same number of lines in the same kind of session, in the same run. The time is from
# `send-keys` until `capture-pane` shows a different screen (so it includes tmux itself, as
# the baseline does). Keys are sent GAP seconds apart (default 0.3), KEYS of them (default 20).
#
#   bench/keys.sh                        1,000,000 events
#   EVENTS=200000 bench/keys.sh
#   BENCH_DIR=/var/tmp/ts-bench bench/keys.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

bench_sizes 1000000 2000
bench_need tmux less bc md5sum
bench_build
export TRAILSCOPE_NO_CACHE=1
bench_dir
bench_archive "$EVENTS" "$PER_FILE"
KEYS=${KEYS:-20}
GAP=${GAP:-0.3}

WORK=$(mktemp -d)
SOCK=$WORK/tmux.sock
tm() { tmux -S "$SOCK" "$@"; }
trap 'tm kill-server >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
# (The trap ends whichever server SOCK names last.)
export LANG=C.UTF-8 LC_ALL=C.UTF-8

# Milliseconds per key, one line each, for the program in the session `s`.
per_key() {
    local i before t0
    for i in $(seq "$KEYS"); do
        before=$(tm capture-pane -p -t s | md5sum)
        t0=$(date +%s%N)
        tm send-keys -t s j
        while [ "$(tm capture-pane -p -t s | md5sum)" = "$before" ]; do :; done
        echo $((($(date +%s%N) - t0) / 1000000))
        sleep "$GAP"
    done
}

seq 1 "$EVENTS" > "$WORK/lines.txt"
tm new-session -d -s s -x 120 -y 40 "exec less $WORK/lines.txt"
sleep 1
LESS_MS=$(per_key | median)
tm kill-server
# A server of its own: the one just ended may still hold its socket.
SOCK=$WORK/tmux-ts.sock

tm new-session -d -s s -x 120 -y 40 "exec $TS $ARCHIVE"
for _ in $(seq 1200); do
    tm capture-pane -p -t s | grep -qE ' in [0-9]+\.[0-9]s' && break
    sleep 0.1
done
sleep 1
TS_MS=$(per_key | median)
tm send-keys -t s q

printf '%-48s %s\n' what measured
printf '%-48s %s\n' "less: a key on screen (median of $KEYS)" "$LESS_MS ms"
printf '%-48s %s\n' "trailscope, $EVENTS events: a key on screen" "$TS_MS ms"
printf '%-48s %s\n' "trailscope against less" "$(ratio "$TS_MS" "$LESS_MS") x"
