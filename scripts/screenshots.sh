#!/usr/bin/env bash
# Make the PNG screenshots in screenshots/ from the real release binary.
#
# Each scenario runs target/release/trailscope in a detached 120x40 tmux
# session (on a private tmux server, so your own tmux is never touched),
# waits until the screen has settled, types keys with `tmux send-keys`,
# captures the screen with `tmux capture-pane -e -N -p` and renders it with
# scripts/ansi2png.py.  (-N keeps trailing spaces: without it tmux drops the
# reversed blanks at the end of a highlighted row.)
#
# Usage:
#   scripts/screenshots.sh              # build, then make every screenshot
#   scripts/screenshots.sh help filter  # only the named scenarios
#
# Environment:
#   SHOTS_NO_BUILD=1     skip `cargo build --release`
#   SHOTS_BIN=FILE       the trailscope binary (default target/release/trailscope)
#   SHOTS_TOOLS=DIR      where trailscope-gen and trailscope-lookup-double are
#   SHOTS_OUT=DIR        write PNGs to DIR instead of screenshots/
#   SHOTS_KEEP=DIR       also keep the raw captures (NAME.ansi, NAME.txt) in DIR
#   SHOTS_SCALE=2        render at 2x (HiDPI); default 1
#   SHOTS_TIMEOUT=20     seconds to wait for the screen to settle; default 20
#   SHOTS_READY=REGEX    extended regex that must match the screen before keys
#                        are sent (default: READY_MARKER below; '' = none)
#
# Requirements: tmux, cargo, python3 with Pillow (installed with pip when
# missing), the DejaVu fonts (fonts-dejavu-core).
set -euo pipefail

COLS=120
ROWS=40
# The app sees TERM=tmux-256color (a 256-colour terminal) and
# COLORTERM=truecolor, so it may use 256-colour and 24-bit colours.
SHOT_TERM=tmux-256color
SHOT_COLORTERM=truecolor
# Extended regex matched against the screen before any key is sent: the
# status bar once every input has been read (" 5/5 events · 5 files ·
# 8.4 KB in 1.2s"; while loading it says "loading 3/5 files").  Empty = just
# wait for a non-empty screen that stays unchanged.
READY_MARKER=${SHOTS_READY- files · .* in [0-9.]+s}
TIMEOUT=${SHOTS_TIMEOUT:-20}
SCALE=${SHOTS_SCALE:-1}

die() { printf 'screenshots.sh: %s\n' "$*" >&2; exit 1; }
say() { printf '==> %s\n' "$*" >&2; }

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BIN=${SHOTS_BIN:-$ROOT/target/release/trailscope}
# The generator and the LookupEvents double, for the live scenario.
TOOLS=${SHOTS_TOOLS:-$ROOT/target/release}
OUT=${SHOTS_OUT:-$ROOT/screenshots}
RENDER=$ROOT/scripts/ansi2png.py

# ---- prerequisites -------------------------------------------------------
command -v tmux >/dev/null 2>&1 ||
    die "tmux is required but not installed (apt-get install tmux / brew install tmux)"
command -v python3 >/dev/null 2>&1 || die "python3 is required but not installed"
if ! python3 -c 'import PIL' >/dev/null 2>&1; then
    say "Pillow is missing; installing it with pip"
    python3 -m pip install --quiet pillow ||
        python3 -m pip install --quiet --user pillow ||
        die "could not install Pillow: run 'pip install pillow' (or apt-get install python3-pil)"
fi
[ -d assets/sample ] || die "assets/sample not found in $ROOT; make it with: cargo run --release -p trailscope-gen -- --events 3000 --per-file 100 --seed 7 assets/sample"

# tmux needs a UTF-8 locale to keep non-ASCII characters.
case "$(locale charmap 2>/dev/null || true)" in
    UTF-8 | utf8) ;;
    *) export LC_ALL=C.UTF-8 ;;
esac

if [ "${SHOTS_NO_BUILD:-}" != 1 ]; then
    command -v cargo >/dev/null 2>&1 || die "cargo is required to build the release binary"
    say "cargo build --release"
    cargo build --release
fi
[ -x "$BIN" ] || die "$BIN not found (run cargo build --release)"

# ---- private tmux server and scratch space --------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/trailscope-shots.XXXXXX")
SOCK=$WORK/tmux.sock # private server: `kill-server` below only ends ours
cleanup() {
    tmux -S "$SOCK" kill-server >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

cat >"$WORK/tmux.conf" <<EOF
set -g default-terminal "$SHOT_TERM"
set -g status off
set -g remain-on-exit on
set -g history-limit 1000
set -s escape-time 0
EOF
tm() { tmux -S "$SOCK" -f "$WORK/tmux.conf" -u "$@"; }

# A clean, reproducible environment for the app (inherited by the tmux server).
unset NO_COLOR TMUX TRAILSCOPE_THEME TRAILSCOPE_CONFIG
# No configuration file or saved filters from the machine.
export COLORTERM=$SHOT_COLORTERM TZ=UTC XDG_CONFIG_HOME=$WORK/config TRAILSCOPE_CACHE_DIR=$WORK/cache

# ---- helpers ---------------------------------------------------------------
screen() { tm capture-pane -p -t "$1" 2>/dev/null | cat -s; }
screen_e() { tm capture-pane -e -N -p -t "$1" 2>/dev/null; }

fail_with_screen() { # NAME MESSAGE
    printf 'screenshots.sh: %s: %s\n--- screen of %s ---\n' "$1" "$2" "$1" >&2
    screen "$1" >&2 || true
    printf -- '--- end of screen ---\n' >&2
    exit 1
}

# The app runs under a small sh wrapper that prints EXIT_MARKER and keeps
# the pane open when the app ends, so that its last words (error message,
# panic) stay readable on the screen.
EXIT_MARKER='[trailscope exited with status'
# shellcheck disable=SC2016 # expanded by the wrapper shell, not here
WRAPPER='"$0" "$@"; s=$?; printf "\n%s %s]\n" "'"$EXIT_MARKER"'" "$s"; exec sleep 86400'

check_alive() { # NAME [SCREEN]
    local dead
    dead=$(tm display-message -p -t "$1" '#{pane_dead}' 2>/dev/null) ||
        die "$1: the tmux session vanished"
    if [ "$dead" = 1 ] || printf '%s' "${2-$(screen "$1")}" | grep -qF -- "$EXIT_MARKER"; then
        fail_with_screen "$1" "trailscope exited before the screenshot was taken"
    fi
}

# wait_settled NAME [REGEX]: poll until REGEX (if given) matches the screen and the
# screen, colours included, stayed identical for SETTLE_POLLS polls in a row
# (about 0.4 s).
SETTLE_POLLS=8
wait_settled() {
    local name=$1 marker=${2:-} prev='' cur same=0 start=$SECONDS
    while :; do
        cur=$(screen_e "$name")
        check_alive "$name" "$cur"
        if [ -n "$cur" ] && [ "$cur" = "$prev" ] &&
            { [ -z "$marker" ] || screen "$name" | grep -qE -- "$marker"; }; then
            same=$((same + 1))
            [ "$same" -ge "$SETTLE_POLLS" ] && return 0
        else
            same=0
        fi
        prev=$cur
        if [ $((SECONDS - start)) -ge "$TIMEOUT" ]; then
            if [ -n "$marker" ]; then
                fail_with_screen "$name" "timed out after ${TIMEOUT}s waiting for '$marker'"
            fi
            fail_with_screen "$name" "timed out after ${TIMEOUT}s waiting for the screen to settle"
        fi
        sleep 0.05
    done
}

# wait_change NAME BEFORE: give the app up to ~2 s to react to a key, i.e.
# until the screen differs from BEFORE (keys without a visible effect just
# cost the 2 s).
wait_change() {
    local name=$1 before=$2 i
    local cur
    for ((i = 0; i < 40; i++)); do
        cur=$(screen_e "$name")
        check_alive "$name" "$cur"
        [ "$cur" != "$before" ] && return 0
        sleep 0.05
    done
    return 0
}

KNOWN=' '
want() { # NAME: is this scenario selected on the command line?
    case $KNOWN in *" $1 "*) ;; *) KNOWN="$KNOWN$1 " ;; esac
    [ "${#SELECTED[@]}" -eq 0 ] && return 0
    local s
    for s in "${SELECTED[@]}"; do [ "$s" = "$1" ] && return 0; done
    return 1
}

# shot NAME "ARGS" KEY...
#   Run `trailscope ARGS` (ARGS is split on spaces) in a fresh 120x40 tmux
#   session, wait for the first screen, send the KEYs one by one and write
#   $OUT/NAME.png.  A KEY is a tmux key name (j, Enter, Escape, Tab, Up, C-c,
#   '?', '/', ...) or one of:
#     text:STRING   type STRING literally
#     wait:REGEX    wait until the screen matches REGEX (grep -E)
#     sleep:SECS    pause (avoid; prefer wait:)
#   The app runs in the directory $SHOT_CWD (default: the repo root), so a
#   scenario can set it:  SHOT_CWD=/some/dir shot NAME "ARGS" KEYS...
#   SHOT_COLS=140 makes the session that wide (default 120).
#   SHOT_ENV="A=1 B=2" sets environment variables for the app; SHOT_READY is
#   the screen text (regex) that says it is ready, when not the status bar's.
shot() {
    local name=$1 argstr=$2
    shift 2
    want "$name" || return 0
    local -a args
    read -r -a args <<<"$argstr"
    local cwd=${SHOT_CWD:-$ROOT}
    say "$name: trailscope $argstr  [keys: $*]"

    local -a envs=()
    local e
    for e in ${SHOT_ENV:-}; do envs+=(-e "$e"); done
    local cols=${SHOT_COLS:-$COLS}
    tm new-session -d -s "$name" -x "$cols" -y "$ROWS" -c "$cwd" ${envs[@]+"${envs[@]}"} \
        /bin/sh -c "$WRAPPER" "$BIN" "${args[@]}"
    wait_settled "$name" "${SHOT_READY:-$READY_MARKER}"

    local key before
    for key in "$@"; do
        before=$(screen_e "$name")
        case $key in
            text:*) tm send-keys -t "$name" -l -- "${key#text:}" ;;
            wait:*) wait_settled "$name" "${key#wait:}"; continue ;;
            sleep:*) sleep "${key#sleep:}"; continue ;;
            *) tm send-keys -t "$name" -- "$key" ;;
        esac
        wait_change "$name" "$before"
        wait_settled "$name"
    done

    local raw=$WORK/$name.ansi cursor='' cur
    screen_e "$name" >"$raw"
    screen "$name" >"$WORK/$name.txt"
    cur=$(tm display-message -p -t "$name" '#{cursor_flag} #{cursor_x},#{cursor_y}')
    [ "${cur%% *}" = 1 ] && cursor="--cursor=${cur#* }"
    tm kill-session -t "$name"

    mkdir -p "$OUT"
    python3 "$RENDER" --cols "$cols" --rows "$ROWS" --scale "$SCALE" \
        --title "trailscope $argstr" ${cursor:+"$cursor"} "$raw" "$OUT/$name.png"
    if [ -n "${SHOTS_KEEP:-}" ]; then
        mkdir -p "$SHOTS_KEEP"
        cp "$raw" "$SHOTS_KEEP/$name.ansi"
        cp "$WORK/$name.txt" "$SHOTS_KEEP/$name.txt"
    fi
    say "$name: wrote ${OUT#"$ROOT"/}/$name.png"
}

# ---- inputs for the error scenario -----------------------------------------
# The app runs inside $WORK/run so that the paths it shows are short and the
# same on every machine: assets/sample (a copy) and broken/... .
make_broken_inputs() {
    local run=$WORK/run
    mkdir -p "$run/assets" "$run/broken"
    cp -R "$ROOT/assets/sample" "$run/assets/sample"
    local full=$WORK/full.json.gz size
    {
        printf '{"Records":['
        local i
        for i in 1 2 3 4 5 6 7 8; do
            [ "$i" -gt 1 ] && printf ','
            printf '{"eventVersion":"1.08","eventTime":"2024-05-01T12:0%d:00Z",' "$i"
            printf '"eventSource":"s3.amazonaws.com","eventName":"GetObject",'
            printf '"awsRegion":"us-east-1","sourceIPAddress":"198.51.100.%d",' "$i"
            printf '"userAgent":"aws-cli/2.15.0","eventID":"00000000-0000-4000-8000-00000000000%d",' "$i"
            printf '"eventType":"AwsApiCall","recipientAccountId":"111122223333"}'
        done
        printf ']}\n'
    } | gzip -n -9 >"$full"
    size=$(wc -c <"$full")
    head -c $((size / 2)) "$full" \
        >"$run/broken/111122223333_CloudTrail_us-east-1_20240501T1200Z_truncated.json.gz"
    printf '{"hello":"world"}\n' >"$run/broken/hello.json"
}

# ---- scenarios -------------------------------------------------------------
SELECTED=("$@")

# The README's first picture: an investigation at 140 columns. From trent's console sign-in,
# everything trent did (p), the facets open on the error field, a failed call selected.
SHOT_COLS=140 shot investigation "assets/sample" / "text:name:=ConsoleLogin user:trent" Enter p f \
    PageDown PageDown PageDown Escape j j
shot list-detail "assets/sample" j j j
shot filter "assets/sample" / "text:name:Delete* -error:AccessDenied" Enter
shot help "assets/sample" '?'
shot fuzzy "assets/sample" / "text:dsg" Enter
shot triage "assets/sample" / "text:name:=ConsoleLogin user:trent" Enter p f PageDown PageDown PageDown j
shot command "assets/sample" : "text:re" Tab "text:us-w" Tab
if want errors; then
    make_broken_inputs
    SHOT_CWD=$WORK/run shot errors \
        "assets/sample broken/111122223333_CloudTrail_us-east-1_20240501T1200Z_truncated.json.gz broken/hello.json" \
        E
fi

# Live event history, against the project's LookupEvents double serving a fresh
# generated archive (its events end now, so they are inside the default window).
if want live; then
    live_archive=$WORK/live-archive
    "$TOOLS/trailscope-gen" --events 3000 --per-file 100 --seed 3 --regions 1 --accounts 1 \
        --no-digests --end "$(date -u -d '-2 min' +%Y-%m-%dT%H:%M:%SZ)" --span 20h "$live_archive" 2>/dev/null
    "$TOOLS/trailscope-lookup-double" "$live_archive" >"$WORK/double.out" 2>/dev/null &
    double_pid=$!
    for _ in $(seq 100); do grep -q listening "$WORK/double.out" 2>/dev/null && break; sleep 0.1; done
    endpoint=$(grep -o 'http://127.0.0.1:[0-9]*' "$WORK/double.out")
    SHOT_ENV="AWS_ACCESS_KEY_ID=AKIDSCREENSHOT AWS_SECRET_ACCESS_KEY=x AWS_CONFIG_FILE=/nonexistent AWS_EC2_METADATA_DISABLED=true" \
        SHOT_READY='matched [0-9]' shot live "--endpoint-url $endpoint --region us-east-1" \
        / "text:name:=DescribeInstances -user:root" Enter "wait:AWS: EventName" sleep:3 j j
    kill "$double_pid" 2>/dev/null || true
fi

for s in ${SELECTED[@]+"${SELECTED[@]}"}; do
    case $KNOWN in *" $s "*) ;; *) die "unknown scenario '$s' (known:$KNOWN)" ;; esac
done
say "done"
