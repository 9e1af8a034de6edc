# What the bench scripts share; sourced by them (from the repository's top, where they cd).
#
#   bench_sizes EVENTS PER_FILE
#                             the archive's size unless the environment sets EVENTS and
#                             PER_FILE; RUNS (timed runs of each command) defaults to 3
#   bench_need TOOL...        exit 2 unless every tool is installed
#   bench_build               the release build of trailscope and its generator (BUILD=0 skips
#                             it); sets TS and GEN, the binaries measured, unless given
#   bench_dir                 DIR: BENCH_DIR (kept between runs) or a temporary directory
#   bench_archive EVENTS PER_FILE
#                             ARCHIVE: the generated archive (seed 1, 30 days, no digests),
#                             made once per DIR; FILES: its .json.gz files in order
#   run NAME COMMAND          runs COMMAND once; adds its wall seconds, user seconds and peak
#                             RSS to WALL[NAME], USER[NAME] and RSS[NAME]
#   wall NAME, user NAME      the median seconds of NAME's runs; mb NAME: their median peak MB
#   median                    the median of the numbers on standard input
#   ratio A B                 A / B to three places
#   verdict EXPRESSION        "met" when bc finds the expression true, else "NOT met"
#   load_avg                  the load average (1, 5 and 15 minutes)

bench_sizes() {
    EVENTS=${EVENTS:-$1}
    PER_FILE=${PER_FILE:-$2}
    RUNS=${RUNS:-3}
}

bench_need() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null || {
            echo "$(basename "$0"): $tool is needed (apt-get install gzip jq time bc tmux; pip install 'moto[server]' awscli)" >&2
            exit 2
        }
    done
}

bench_build() {
    if [ "${BUILD:-1}" = 1 ]; then
        cargo build --release -p trailscope -p trailscope-gen >&2
    fi
    # TS=/path/to/another/build measures that one instead (e.g. an older commit's).
    TS=${TS:-target/release/trailscope}
    GEN=${GEN:-target/release/trailscope-gen}
}

bench_dir() {
    DIR=${BENCH_DIR:-$(mktemp -d)}
    [ -n "${BENCH_DIR:-}" ] || trap 'rm -rf "$DIR"' EXIT
    mkdir -p "$DIR"
}

bench_archive() {
    ARCHIVE="$DIR/archive-$1-$2"
    if [ ! -d "$ARCHIVE" ]; then
        "$GEN" --events "$1" --per-file "$2" --seed 1 --no-digests --span 30d "$ARCHIVE" >&2
    fi
    mapfile -t FILES < <(find "$ARCHIVE" -name '*.json.gz' | sort)
}

declare -A WALL USER RSS
run() {
    local t="$DIR/.time" w u m
    /usr/bin/time -o "$t" -f '%e %U %M' bash -c "$2" >/dev/null 2>/dev/null || true
    read -r w u m < <(tail -1 "$t")
    WALL[$1]+="$w "
    USER[$1]+="$u "
    RSS[$1]+="$m "
    echo "  $1: ${w}s wall, ${u}s user, $((m / 1024)) MB" >&2
}

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
wall() { echo "${WALL[$1]}" | median; }
user() { echo "${USER[$1]}" | median; }
mb() { echo "$(echo "${RSS[$1]}" | median) / 1024" | bc; }
ratio() { echo "scale=3; $1 / $2" | bc -l; }
verdict() { if [ "$(echo "$1" | bc -l)" = 1 ]; then echo "met"; else echo "NOT met"; fi; }
load_avg() { cut -d' ' -f1-3 /proc/loadavg; }
