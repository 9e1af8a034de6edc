#!/usr/bin/env bash
# Log file integrity at archive scale: `trailscope verify` beside the plain load
# (`print --filter id:=none`) on the same generated archive with signed digests, in one run,
# alternating, with medians; then the aws CLI's validator (tests/awscli_validate.py, its S3
# reads served from the files) on the same digests, once.
#
#   bench/verify.sh                  1,000,000 events (500 .json.gz files, 30 days of hourly digests)
#   EVENTS=20000 PER_FILE=200 SPAN=2d RUNS=1 bench/verify.sh
#   BENCH_DIR=/var/tmp/ts-verify bench/verify.sh      keep the generated archive between runs
#   BUILD=0 TS=target/debug/trailscope GEN=target/debug/trailscope-gen bench/verify.sh
#
# Target: verify takes at most 1.5x the plain load's time.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

bench_sizes 1000000 2000
SPAN=${SPAN:-30d}
AWSCLI=${AWSCLI:-1}

bench_need /usr/bin/time python3
bench_build
export TRAILSCOPE_NO_CACHE=1
bench_dir
ARCHIVE="$DIR/verify-$EVENTS-$PER_FILE-$SPAN"
KEYS="$ARCHIVE.public-keys.json"
if [ ! -d "$ARCHIVE" ]; then
    "$GEN" --events "$EVENTS" --per-file "$PER_FILE" --seed 1 --span "$SPAN" --public-keys "$KEYS" "$ARCHIVE" >&2
fi
LOGS=$(find "$ARCHIVE" -path '*/CloudTrail/*' -name '*.json.gz' | wc -l)
DIGESTS=$(find "$ARCHIVE" -path '*/CloudTrail-Digest/*' -name '*.json.gz' | wc -l)
echo "archive: $EVENTS events, $LOGS log files, $DIGESTS digest files; $(nproc) cores; runs: $RUNS" >&2

measure() { # command -> "wall_seconds peak_rss_kb exit_status"
    local t="$DIR/.time" rc=0
    /usr/bin/time -o "$t" -f '%e %M' bash -c "$1" >/dev/null 2>"$DIR/.err" || rc=$?
    echo "$(tail -1 "$t") $rc"
}

LOAD="$TS print --format jsonl --filter 'id:=none' $ARCHIVE"
VERIFY="$TS verify --format jsonl --public-keys $KEYS $ARCHIVE"
for _ in $(seq "$RUNS"); do
    for name in load verify; do
        cmd=$LOAD; [ "$name" = verify ] && cmd=$VERIFY
        read -r wall rss rc <<<"$(measure "$cmd")"
        if [ "$name" = verify ] && [ "$rc" != 0 ]; then
            echo "bench: verify exited $rc on an untouched archive:" >&2; cat "$DIR/.err" >&2; exit 1
        fi
        WALL[$name]+="$wall "; RSS[$name]+="$rss "
    done
done
L=$(wall load); V=$(wall verify)
printf '%-28s %8s s  %8s MB   (runs: %s)\n' "load (print id:=none)" "$L" "$(mb load)" "${WALL[load]}"
printf '%-28s %8s s  %8s MB   (runs: %s)\n' "trailscope verify" "$V" "$(mb verify)" "${WALL[verify]}"
RATIO=$(python3 -c "print(f'{$V/$L:.2f}')")
echo "verify / load: ${RATIO}x (target: at most 1.5x)"
if [ "$AWSCLI" = 1 ] && python3 -c 'import awscli.customizations.cloudtrail.validation' 2>/dev/null; then
    read -r wall rss rc <<<"$(measure "python3 tests/awscli_validate.py $ARCHIVE $KEYS")"
    printf '%-28s %8s s  %8s MB   (%s)\n' "aws CLI validator" "$wall" "$((rss / 1024))" "once, same digests and log files"
    python3 -c "print(f'aws CLI / trailscope verify: {$wall/$V:.1f}x')"
fi
python3 -c "import sys; sys.exit(0 if $V <= 1.5 * $L else 1)" && echo "target met" || echo "target NOT met"
