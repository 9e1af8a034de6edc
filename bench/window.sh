#!/usr/bin/env bash
# A one-day window over a 35-day local archive, beside zcat, in one run, alternating, with
# medians:
#
#   zcat      zcat of every file of the archive (the baseline: decompression alone)
#   full      print of the whole archive (--filter id:=none: everything read, nothing written)
#   day       print of one day of it (--since/--until a day; the same filter)
#   zcat-day  zcat of the files the day's window needs (the day's, plus the lag's)
#
#   bench/window.sh                      350,000 events (350 .json.gz files over 35 days)
#   EVENTS=1000000 RUNS=5 bench/window.sh
#   TS=target/debug/trailscope bench/window.sh    another build (the default builds release)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

bench_sizes 350000 1000
bench_need zcat /usr/bin/time bc
# TS=another build measures that one, with the generator beside it, and builds nothing.
[ -z "${TS:-}" ] || BUILD=${BUILD:-0}
GEN=${GEN:-$(dirname "${TS:-target/release/trailscope}")/trailscope-gen}
bench_build
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
export TRAILSCOPE_NO_CACHE=1
ARCHIVE=$DIR/archive
"$GEN" --events "$EVENTS" --per-file "$PER_FILE" --seed 7 --no-digests --span 35d --end 2026-01-01T00:00:00Z "$ARCHIVE" >&2
find "$ARCHIVE" -name '*.json.gz' | sort >"$DIR/all"
# The day 2025-12-15 and the files its window needs: delivered from its start to an hour after
# its end (the default --delivery-lag), by the delivery time in their names.
SINCE=2025-12-15T00:00:00Z UNTIL=2025-12-15T23:59:59Z
grep -E '_(20251215T[0-9]{4}Z|20251216T00[0-5][0-9]Z)_' "$DIR/all" >"$DIR/day" || true

echo "archive: $EVENTS events in $(wc -l <"$DIR/all") files over 35 days; the day's window needs $(wc -l <"$DIR/day") of them; $(nproc) cores; runs: $RUNS" >&2
for _ in $(seq "$RUNS"); do
    run zcat "xargs zcat <'$DIR/all'"
    run full "'$TS' print --filter id:=none '$ARCHIVE'"
    run day "'$TS' print --filter id:=none --since $SINCE --until $UNTIL '$ARCHIVE'"
    run zcat-day "xargs zcat <'$DIR/day'"
done
# The day's answer is the whole archive's answer for that day.
# (Sorted: events of the same second may come in another order.)
"$TS" print --since $SINCE --until $UNTIL "$ARCHIVE" 2>"$DIR/day.err" | sort | sha256sum >"$DIR/a"
cat "$DIR/day.err" >&2
# The reference: the same files under names that are not a trail's, so every one is read.
mkdir "$DIR/renamed"
while read -r f; do b=$(basename "$f"); ln -s "$f" "$DIR/renamed/${b/_CloudTrail_/_copy_}"; done <"$DIR/all"
"$TS" print --since $SINCE --until $UNTIL "$DIR/renamed" 2>/dev/null | sort | sha256sum >"$DIR/b"
if cmp -s "$DIR/a" "$DIR/b"; then same=yes; else same=NO; fi

z=$(wall zcat); f=$(wall full); d=$(wall day); zd=$(wall zcat-day)
printf '%-10s %8s s   (runs: %s)\n' zcat "$z" "${WALL[zcat]}" full "$f" "${WALL[full]}" day "$d" "${WALL[day]}" zcat-day "$zd" "${WALL[zcat-day]}"
echo "full / zcat: $(echo "scale=2; $f / $z" | bc)x"
echo "day / full: $(echo "scale=3; $d / $f" | bc) (target: about 1/35 = 0.029)"
echo "the day's events are those of every file read: $same"
