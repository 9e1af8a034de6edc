#!/usr/bin/env bash
# The TUI on an archive, in a private 120x40 tmux session: how long until the first events are
# on screen, how long the whole load takes (as the status bar reports it), the peak resident
# memory once everything is loaded, and the anonymous resident memory then (what cannot be
# reclaimed, unlike mapped files). Prints one line: first_ms load_s peak_rss_kb anon_rss_kb
#
#   bench/tui.sh target/release/trailscope ARCHIVE_DIR
set -euo pipefail
TS=$1
ARCHIVE=$2
command -v tmux >/dev/null || { echo "bench/tui.sh: tmux is needed (apt-get install tmux)" >&2; exit 2; }

WORK=$(mktemp -d)
SOCK=$WORK/tmux.sock
tm() { tmux -S "$SOCK" "$@"; }
trap 'tm kill-server >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
export LANG=C.UTF-8 LC_ALL=C.UTF-8

now_ms() { date +%s%3N; }
start=$(now_ms)
tm new-session -d -x 120 -y 40 "exec $TS $ARCHIVE"
pid=$(tm display-message -p '#{pane_pid}')

# First screen: a list row starts with an event time.
first=""
for _ in $(seq 2000); do
    if tm capture-pane -p | grep -qE '20[0-9]{2}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}Z'; then
        first=$(($(now_ms) - start))
        break
    fi
    sleep 0.005
done

# Done: the status bar says "N files · SIZE in X.Ys".
load=""
for _ in $(seq 6000); do
    if line=$(tm capture-pane -p | grep -oE ' in [0-9]+\.[0-9]s'); then
        load=$(echo "$line" | grep -oE '[0-9]+\.[0-9]')
        break
    fi
    sleep 0.05
done
sleep 0.3
rss=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo "")
anon=$(awk '/^RssAnon:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo "")
tm send-keys q
echo "${first:-NA} ${load:-NA} ${rss:-NA} ${anon:-NA}"
