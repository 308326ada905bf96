#!/usr/bin/env bash
# The web proxy benchmark: schoolgate side by side with its peers, in one run.
#
#   ./scripts/bench-proxy.sh                # the full run, written to docs/benchmarks.md
#   DURATION=5 ROUNDS=1 ./scripts/bench-proxy.sh   # a quick look
#
# It installs the peers from Debian packages (nginx, wrk, e2guardian, squid,
# squidguard), builds one list of blocked domains from UT1, loads that same
# list into every filter, starts a local nginx origin and each filter on
# loopback with configurations generated into a temporary folder, and measures
# direct, schoolgate, E2Guardian and squid+squidGuard interleaved, ROUNDS
# times, taking medians. Every daemon it starts is stopped when it exits.
# Nothing but 127.0.0.1 is ever contacted (apart from apt-get itself).
#
# Settings (environment):
#   SCHOOLGATE_BIN   schoolgate binary (default target/release/schoolgate, built
#                    or brought up to date with `cargo build --release`); skipped,
#                    with the reason, if it cannot be built, has no `serve`
#                    command yet, or its configuration has no [proxy] table yet
#   UT1_DIR          UT1 folder (default ../shared/data/ut1 beside the repo;
#                    the bundled data/starter/blacklists.tar.gz if that is missing)
#   DURATION         seconds of each 1 KiB run (default 15)
#   SHORT_DURATION   seconds of each blocked-domain and 1 MiB run (default 10,
#                    or DURATION if that is less)
#   ROUNDS           interleaved rounds, medians taken (default 3)
#   CONNECTIONS      wrk connections for the 1 KiB and blocked runs (default 64)
#   THREADS          wrk threads (default 2)
#   BIG_CONNECTIONS  wrk connections for the 1 MiB runs (default 8)
#   TUNNEL_FILES     1 MiB downloads per CONNECT tunnel measurement (default 1000)
#   TUNNEL_PARALLEL  tunnels used at once for them (default 4)
#   TUNNEL_THREADS   schoolgate's [proxy] tunnel_threads (default 64, as
#                    shipped; 0 keeps every tunnel on the shared workers)
#   TARGETS          which targets to measure (default "direct schoolgate e2guardian squid")
#   MONITORING       on or off: schoolgate's [monitoring] (the warm path reading
#                    the activity log behind the proxy); unset, as shipped (on).
#                    Compare `TARGETS=schoolgate WRITE_DOCS=0 MONITORING=off`
#                    with `MONITORING=on` for the monitoring-latency target
#   SETTLE_MAX       most seconds to wait, before each measurement, for every
#                    filter to go idle (default 120; see settle below)
#   SKIP_INSTALL=1   do not run apt-get (fail if something is missing)
#   WRITE_DOCS=0     print the table but leave docs/benchmarks.md alone
#   RESULTS_DIR      where raw outputs are kept (default target/bench-proxy)
#   KEEP_WORK=1      keep the temporary folder (configurations, daemon logs)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_FILES=$REPO/scripts/bench

# The exact command, with the settings that were given, for the report.
COMMAND=""
for setting in SCHOOLGATE_BIN UT1_DIR DURATION SHORT_DURATION ROUNDS CONNECTIONS THREADS \
    BIG_CONNECTIONS TUNNEL_FILES TUNNEL_PARALLEL TUNNEL_THREADS TARGETS MONITORING SETTLE_MAX SKIP_INSTALL WRITE_DOCS; do
    if [[ -n "${!setting:-}" ]]; then
        COMMAND+="$setting=${!setting} "
    fi
done
COMMAND+="./scripts/bench-proxy.sh${*:+ $*}"

SCHOOLGATE_BIN=${SCHOOLGATE_BIN:-$REPO/target/release/schoolgate}
UT1_DIR=${UT1_DIR:-$REPO/../shared/data/ut1}
DURATION=${DURATION:-15}
SHORT_DURATION=${SHORT_DURATION:-$((DURATION < 10 ? DURATION : 10))}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
BIG_CONNECTIONS=${BIG_CONNECTIONS:-8}
TUNNEL_FILES=${TUNNEL_FILES:-1000}
TUNNEL_PARALLEL=${TUNNEL_PARALLEL:-4}
TUNNEL_THREADS=${TUNNEL_THREADS:-64}
SETTLE_MAX=${SETTLE_MAX:-120}
TARGETS=${TARGETS:-direct schoolgate e2guardian squid}
SKIP_INSTALL=${SKIP_INSTALL:-0}
WRITE_DOCS=${WRITE_DOCS:-1}
RESULTS_DIR=${RESULTS_DIR:-$REPO/target/bench-proxy}
KEEP_WORK=${KEEP_WORK:-0}
MONITORING=${MONITORING:-}

# The origin's page carries this marker, so an answer that lacks it did not
# come from the origin.
ORIGIN_MARKER=schoolgate-bench-origin-page

log() { printf '[bench-proxy] %s\n' "$*" >&2; }
die() {
    log "FAILED: $*"
    exit 1
}

for n in DURATION SHORT_DURATION ROUNDS CONNECTIONS THREADS BIG_CONNECTIONS TUNNEL_FILES TUNNEL_PARALLEL SETTLE_MAX; do
    [[ ${!n} =~ ^[1-9][0-9]*$ ]] || die "$n must be a whole number above 0, not '${!n}'"
done
[[ $TUNNEL_THREADS =~ ^(0|[1-9][0-9]*)$ ]] || die "TUNNEL_THREADS must be a whole number, 0 or more, not '$TUNNEL_THREADS'"
[[ -z "$MONITORING" || "$MONITORING" == on || "$MONITORING" == off ]] ||
    die "MONITORING must be on or off, not '$MONITORING'"
[[ -d /proc/self ]] || die "this benchmark reads /proc: it runs on Linux only"

# ---------------------------------------------------------------------------
# Daemons: every one is started in its own session, remembered by its id, and
# stopped on exit (TERM to its process group, KILL if it is still there after
# its grace period, 10 s unless start_daemon was told otherwise).

declare -a DAEMON_PIDS=()
declare -A DAEMON_NAMES=() DAEMON_GRACE=()
WORK=""

stop_daemon() {
    local pid=$1 i grace=${DAEMON_GRACE[$1]:-10}
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "${DAEMON_NAMES[$pid]:-process $pid} did not stop within $grace s of SIGTERM; killing it"
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local status=$? pid
    trap - EXIT INT TERM
    for pid in "${DAEMON_PIDS[@]}"; do
        stop_daemon "$pid"
    done
    if [[ -n "$WORK" && -d "$WORK" ]]; then
        if [[ "$KEEP_WORK" == 1 ]]; then
            log "kept the temporary folder $WORK"
        else
            rm -rf -- "$WORK"
        fi
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start_daemon NAME LOGFILE GRACE COMMAND...: runs it in a new session; sets
# DAEMON_PID. GRACE is how many seconds it gets to stop after SIGTERM.
start_daemon() {
    local name=$1 logfile=$2 grace=$3
    shift 3
    setsid "$@" >"$logfile" 2>&1 </dev/null &
    DAEMON_PID=$!
    DAEMON_PIDS+=("$DAEMON_PID")
    DAEMON_NAMES[$DAEMON_PID]=$name
    DAEMON_GRACE[$DAEMON_PID]=$grace
}

now_ms() { date +%s%3N; }

# wait_ready NAME PID URL PROXY LOGFILE: waits up to 60 s for a 200 from URL
# (through PROXY unless it is empty), failing early if PID dies.
wait_ready() {
    local name=$1 pid=$2 url=$3 proxy=$4 logfile=$5 deadline code
    local -a via=()
    [[ -n "$proxy" ]] && via=(--proxy "$proxy")
    deadline=$(($(date +%s) + 60))
    while :; do
        if ! kill -0 "$pid" 2>/dev/null; then
            log "$name exited during start-up; the end of its log ($logfile):"
            tail -n 20 "$logfile" >&2 || true
            return 1
        fi
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 --noproxy '' "${via[@]}" "$url" || true)
        [[ "$code" == 200 ]] && return 0
        if (($(date +%s) >= deadline)); then
            log "$name did not answer $url with 200 within 60 s (last status: $code); the end of its log ($logfile):"
            tail -n 20 "$logfile" >&2 || true
            return 1
        fi
        sleep 0.02
    done
}

# process_tree PID: PID and every process below it, one a line.
process_tree() {
    local root=$1 stat line rest ppid pid
    local -A children=()
    for stat in /proc/[0-9]*/stat; do
        { read -r line <"$stat"; } 2>/dev/null || continue
        pid=${stat#/proc/}
        pid=${pid%/stat}
        rest=${line##*) }
        read -r _ ppid _ <<<"$rest"
        children[$ppid]+=" $pid"
    done
    local -a queue=("$root")
    while ((${#queue[@]})); do
        pid=${queue[0]}
        queue=("${queue[@]:1}")
        echo "$pid"
        # shellcheck disable=SC2206 # a list of ids
        [[ -n "${children[$pid]:-}" ]] && queue+=(${children[$pid]})
    done
}

# rss_kib PID: resident memory of PID and its descendants, in KiB.
rss_kib() {
    local total=0 pid kib
    while read -r pid; do
        kib=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
        total=$((total + ${kib:-0}))
    done < <(process_tree "$1")
    echo "$total"
}

# pss_kib PID: proportional set size of PID and its descendants, in KiB
# (shared pages divided among the processes that share them).
pss_kib() {
    local total=0 pid kib
    while read -r pid; do
        kib=$(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null || true)
        total=$((total + ${kib:-0}))
    done < <(process_tree "$1")
    echo "$total"
}

# cpu_ticks PID: user+system time of PID, its descendants and its reaped children.
cpu_ticks() {
    local total=0 pid line rest
    local -a f
    while read -r pid; do
        { read -r line <"/proc/$pid/stat"; } 2>/dev/null || continue
        rest=${line##*) }
        read -r -a f <<<"$rest"
        total=$((total + f[11] + f[12] + f[13] + f[14]))
    done < <(process_tree "$1")
    echo "$total"
}
CLK_TCK=$(getconf CLK_TCK)

# free_ports N: N distinct loopback ports that are free now.
free_ports() {
    python3 - "$1" <<'EOF'
import socket, sys
held = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    held.append(s)
print(" ".join(str(s.getsockname()[1]) for s in held))
EOF
}

# fill TEMPLATE OUTPUT NAME=VALUE...: copies a template, replacing @NAME@.
fill() {
    local template=$1 output=$2 pair expr=()
    shift 2
    for pair in "$@"; do
        expr+=(-e "s|@${pair%%=*}@|${pair#*=}|g")
    done
    sed "${expr[@]}" "$template" >"$output"
    if grep -q '@[A-Z_]*@' "$output"; then
        die "$output still has a placeholder: $(grep -o '@[A-Z_]*@' "$output" | head -1)"
    fi
}

# ---------------------------------------------------------------------------
# 1. Packages.

declare -A UNAVAILABLE=() # target -> why it cannot be measured
NOT_INSTALLABLE=()

install_packages() {
    local -a wanted=(nginx-light wrk e2guardian squid squidguard curl openssl)
    local -a missing=() installable=()
    local pkg candidate
    for pkg in "${wanted[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
    done
    if ((${#missing[@]} == 0)); then
        log "packages: all present (${wanted[*]})"
        return 0
    fi
    if [[ "$SKIP_INSTALL" == 1 ]]; then
        log "packages: missing ${missing[*]}, and SKIP_INSTALL=1 says not to install them"
        NOT_INSTALLABLE+=("${missing[@]}")
        return 0
    fi
    [[ $(id -u) == 0 ]] || die "packages ${missing[*]} are missing and installing them needs root"
    log "packages: apt-get update, then install ${missing[*]}"
    apt-get update -qq || die "apt-get update failed"
    for pkg in "${missing[@]}"; do
        candidate=$(apt-cache policy "$pkg" 2>/dev/null | awk '/Candidate:/ {print $2}')
        if [[ -z "$candidate" || "$candidate" == "(none)" ]]; then
            log "packages: $pkg is not installable here (apt-cache policy shows no candidate)"
            NOT_INSTALLABLE+=("$pkg")
        else
            installable+=("$pkg")
        fi
    done
    ((${#installable[@]})) || return 0
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${installable[@]}" >&2; then
        # One at a time, so that one broken package does not sink the others.
        for pkg in "${installable[@]}"; do
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >&2 || {
                log "packages: installing $pkg failed"
                NOT_INSTALLABLE+=("$pkg")
            }
        done
    fi
}

package_version() {
    dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "not installed"
}

# ---------------------------------------------------------------------------
# 2. The list: unique domains of the UT1 categories whose usage says black
# (and not white), IPv4 entries left out. Same file for every filter.

LIST_SOURCE=""
LIST_CATEGORIES=0
LIST_COUNT=0

build_list() {
    local src=$UT1_DIR dir usage cat
    if [[ -d "$src" ]]; then
        src=$(cd "$src" && pwd)
        if [[ "$src" == "$(cd "$REPO/.." && pwd)/shared/data/ut1" ]]; then
            LIST_SOURCE="UT1 in ../shared/data/ut1"
        else
            LIST_SOURCE="UT1 in $src"
        fi
    else
        log "list: no UT1 folder at $src; using the bundled data/starter/blacklists.tar.gz instead"
        mkdir -p "$WORK/ut1"
        tar -xzf "$REPO/data/starter/blacklists.tar.gz" -C "$WORK/ut1" || die "cannot extract data/starter/blacklists.tar.gz"
        src=$WORK/ut1/blacklists
        LIST_SOURCE="the bundled data/starter/blacklists.tar.gz (no UT1 folder at $UT1_DIR)"
    fi
    : >"$WORK/list/all"
    for dir in "$src"/*/; do
        dir=${dir%/}
        cat=${dir##*/}
        usage=$dir/usage
        # Aliases (ads -> publicite, ...) are symbolic links: read each folder once.
        [[ -L "$dir" ]] && continue
        [[ -f "$usage" ]] || continue
        # "black" and not "white": the categories UT1 means for blocking.
        if grep -v '^#' "$usage" | grep -qw black && ! grep -v '^#' "$usage" | grep -qw white; then
            LIST_CATEGORIES=$((LIST_CATEGORIES + 1))
            echo "$cat" >>"$WORK/list/categories"
            [[ -f "$dir/domains" ]] && cat "$dir/domains" >>"$WORK/list/all"
        fi
    done
    tr -d '\r\t ' <"$WORK/list/all" | LC_ALL=C tr '[:upper:]' '[:lower:]' | sed -e 's/#.*//' -e 's/^\.*//' -e 's/\.*$//' |
        grep -E '^[a-z0-9_-]+(\.[a-z0-9_-]+)+$' |
        grep -vE '^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$' |
        LC_ALL=C sort -u >"$WORK/list/domains"
    LIST_COUNT=$(wc -l <"$WORK/list/domains")
    ((LIST_COUNT > 0)) || die "the list from $LIST_SOURCE is empty"
    # The domain requested in the blocked-domain runs: a gambling site if the
    # list has one, else the first entry.
    BLOCKED_DOMAIN=""
    if [[ -f "$src/gambling/domains" ]]; then
        BLOCKED_DOMAIN=$(LC_ALL=C tr '[:upper:]' '[:lower:]' <"$src/gambling/domains" | LC_ALL=C sort -u |
            LC_ALL=C comm -12 - "$WORK/list/domains" | head -n 1 || true)
    fi
    [[ -n "$BLOCKED_DOMAIN" ]] || BLOCKED_DOMAIN=$(head -n 1 "$WORK/list/domains")
    log "list: $LIST_COUNT unique domains from $LIST_CATEGORIES categories of $LIST_SOURCE; blocked-domain runs ask for $BLOCKED_DOMAIN"
}

# ---------------------------------------------------------------------------
# 3. The origin: nginx on loopback, HTTP and TLS.

start_origin() {
    local dir=$WORK/nginx user_line="" page
    mkdir -p "$dir/www" "$dir/tmp"
    # A 1 KiB HTML page carrying the marker, a 1 MiB file, and the page
    # squidGuard redirects blocked requests to.
    page="<!doctype html><html><head><title>$ORIGIN_MARKER</title></head><body><p>$ORIGIN_MARKER</p><p>"
    printf '%s' "$page" >"$dir/www/1k.html"
    head -c $((1024 - ${#page} - 19)) /dev/zero | tr '\0' 'x' >>"$dir/www/1k.html"
    printf '</p></body></html>\n' >>"$dir/www/1k.html"
    [[ $(wc -c <"$dir/www/1k.html") == 1024 ]] || die "the 1 KiB page is $(wc -c <"$dir/www/1k.html") bytes, not 1024"
    # The 1 MiB file is served as image/jpeg: E2Guardian's shipped
    # bannedextensionlist blocks .bin, and no filter scans images.
    head -c 1048576 /dev/urandom >"$dir/www/1m.jpg"
    printf '<!doctype html><html><body><h1>Blocked</h1><p>This site is blocked by the school filter.</p></body></html>\n' >"$dir/www/blocked.html"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" \
        -keyout "$dir/origin.key" -out "$dir/origin.crt" 2>"$dir/openssl.log" ||
        die "openssl could not make the origin's certificate (see $dir/openssl.log)"
    if [[ $(id -u) == 0 ]]; then
        user_line="user nobody nogroup;"
        id nobody >/dev/null 2>&1 || user_line="user root;"
    fi
    fill "$BENCH_FILES/nginx.conf.in" "$dir/nginx.conf" \
        "DIR=$dir" "HTTP_PORT=$ORIGIN_PORT" "TLS_PORT=$TLS_PORT" "USER_LINE=$user_line"
    chmod -R a+rX "$dir"
    nginx -t -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" >"$dir/nginx-t.log" 2>&1 ||
        die "nginx refused its configuration: $(tail -n 3 "$dir/nginx-t.log")"
    start_daemon nginx "$dir/stdout.log" 10 nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" -g 'daemon off;'
    wait_ready nginx "$DAEMON_PID" "http://127.0.0.1:$ORIGIN_PORT/1k.html" "" "$dir/error.log" ||
        die "the nginx origin did not start"
    curl -s -o /dev/null --fail --cacert "$dir/origin.crt" "https://127.0.0.1:$TLS_PORT/1k.html" ||
        die "the nginx origin does not answer over TLS on 127.0.0.1:$TLS_PORT"
    log "origin: nginx on 127.0.0.1:$ORIGIN_PORT (HTTP) and 127.0.0.1:$TLS_PORT (TLS)"
}

# ---------------------------------------------------------------------------
# 4. The filters. Each start_* sets PROXY_PORT[target], FILTER_PID[target],
# START_MS[target] (start to first proxied answer) and notes, or records in
# UNAVAILABLE why it could not run.

declare -A PROXY_PORT=() FILTER_PID=() START_MS=() NOTES=()

# schoolgate: the binary's `serve` with the list imported as one domains list.
start_schoolgate() {
    local dir=$WORK/schoolgate bin=$SCHOOLGATE_BIN t0 t1 log_file
    mkdir -p "$dir"
    if [[ "$bin" == "$REPO/target/release/schoolgate" ]] && command -v cargo >/dev/null; then
        # Always through cargo, so a binary older than the source is rebuilt
        # (a no-op when it is up to date).
        log "schoolgate: cargo build --release --bin schoolgate"
        if ! (cd "$REPO" && cargo build --release --bin schoolgate) >"$dir/build.log" 2>&1; then
            cp "$dir/build.log" "$RESULTS_DIR/schoolgate-build.log"
            UNAVAILABLE[schoolgate]="cargo build --release failed (its output is in $RESULTS_DIR/schoolgate-build.log)"
            return 0
        fi
    fi
    if [[ ! -x "$bin" ]]; then
        UNAVAILABLE[schoolgate]="SCHOOLGATE_BIN=$bin is not an executable file"
        return 0
    fi
    if ! "$bin" serve --help >/dev/null 2>&1; then
        UNAVAILABLE[schoolgate]="$bin has no \`serve\` command yet (the proxy has not landed)"
        return 0
    fi
    fill "$BENCH_FILES/schoolgate.toml.in" "$dir/schoolgate.toml" \
        "PORT=${PROXY_PORT[schoolgate]}" "METRICS_PORT=$METRICS_PORT" "TUNNEL_THREADS=$TUNNEL_THREADS"
    if [[ -n "$MONITORING" ]]; then
        printf '\n[monitoring]\nenabled = %s\n' "$([[ $MONITORING == on ]] && echo true || echo false)" \
            >>"$dir/schoolgate.toml"
    fi
    if ! "$bin" --data "$dir/data" check-config --config "$dir/schoolgate.toml" >"$dir/check-config.log" 2>&1; then
        local said
        said=$(grep -v '^\s*$' "$dir/check-config.log" | tail -n 1)
        if grep -q 'unknown field .proxy.' <<<"$said"; then
            UNAVAILABLE[schoolgate]="its \`serve\` has no web proxy yet (the proxy has not landed): check-config says \"$said\""
        else
            UNAVAILABLE[schoolgate]="its \`serve\` refuses the benchmark's configuration (scripts/bench/schoolgate.toml.in): check-config says \"$said\""
        fi
        return 0
    fi
    SCHOOLGATE_VERSION=$("$bin" --version 2>/dev/null || echo "schoolgate (version unknown)")
    if [[ "$bin" == "$REPO/target/release/schoolgate" ]]; then
        SCHOOLGATE_VERSION+=", built from $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')"
    else
        SCHOOLGATE_VERSION+=" ($bin)"
    fi
    t0=$(now_ms)
    "$bin" --data "$dir/data" --by bench-proxy lists import --format domains --category pornography \
        --name bench/ut1-black "$WORK/list/domains" >"$dir/import.log" 2>&1 ||
        die "schoolgate lists import failed: $(tail -n 3 "$dir/import.log")"
    t1=$(now_ms)
    NOTES[schoolgate_import_ms]=$((t1 - t0))
    "$bin" --data "$dir/data" --by bench-proxy policy import "$BENCH_FILES/schoolgate-policy.toml" \
        --reason "Benchmark policy: one pupil profile, no walled garden, so every request is looked up" \
        >"$dir/policy.log" 2>&1 || die "schoolgate policy import failed: $(tail -n 3 "$dir/policy.log")"
    log_file=$dir/serve.log
    t0=$(now_ms)
    start_daemon schoolgate "$log_file" 10 "$bin" --data "$dir/data" serve --config "$dir/schoolgate.toml"
    FILTER_PID[schoolgate]=$DAEMON_PID
    wait_ready schoolgate "$DAEMON_PID" "http://127.0.0.1:$ORIGIN_PORT/1k.html" \
        "http://127.0.0.1:${PROXY_PORT[schoolgate]}" "$log_file" || die "schoolgate serve did not start"
    START_MS[schoolgate]=$(($(now_ms) - t0))
    log "schoolgate: listening on 127.0.0.1:${PROXY_PORT[schoolgate]}; list imported in ${NOTES[schoolgate_import_ms]} ms; first answer after ${START_MS[schoolgate]} ms"
}

# E2Guardian: Debian's configuration as shipped (content scanning on), with
# our list as bannedsitelist, loopback port, files in the temporary folder.
start_e2guardian() {
    local dir=$WORK/e2guardian t0
    if ! command -v e2guardian >/dev/null; then
        UNAVAILABLE[e2guardian]="the e2guardian package is not installed"
        return 0
    fi
    mkdir -p "$dir/log" "$dir/cache"
    cp -a /etc/e2guardian "$dir/etc"
    cp "$WORK/list/domains" "$dir/etc/lists/bannedsitelist"
    grep -rl '/etc/e2guardian' "$dir/etc" | xargs -r sed -i "s|/etc/e2guardian|$dir/etc|g"
    sed -i \
        -e "s|^filterip =.*|filterip = 127.0.0.1|" \
        -e "s|^filterports = .*|filterports = ${PROXY_PORT[e2guardian]}|" \
        -e "s|^#loglocation = .*|loglocation = '$dir/log/access.log'|" \
        -e "s|^#pidfilename = .*|pidfilename = '$dir/e2guardian.pid'|" \
        -e "s|^filecachedir = .*|filecachedir = '$dir/cache'|" \
        "$dir/etc/e2guardian.conf"
    grep -q "^filterports = ${PROXY_PORT[e2guardian]}\$" "$dir/etc/e2guardian.conf" ||
        die "could not set E2Guardian's port in its configuration"
    chmod -R a+rX "$dir"
    if [[ $(id -u) == 0 ]] && id e2guardian >/dev/null 2>&1; then
        chown -R e2guardian: "$dir/log" "$dir/cache"
    fi
    t0=$(now_ms)
    # E2Guardian 5.3.5 in the foreground restarts its workers on SIGTERM once
    # it has served requests, instead of exiting: it gets 3 s, then SIGKILL.
    start_daemon e2guardian "$dir/stdout.log" 3 e2guardian -N -c "$dir/etc/e2guardian.conf"
    FILTER_PID[e2guardian]=$DAEMON_PID
    wait_ready E2Guardian "$DAEMON_PID" "http://127.0.0.1:$ORIGIN_PORT/1k.html" \
        "http://127.0.0.1:${PROXY_PORT[e2guardian]}" "$dir/stdout.log" || die "E2Guardian did not start"
    START_MS[e2guardian]=$(($(now_ms) - t0))
    log "E2Guardian: listening on 127.0.0.1:${PROXY_PORT[e2guardian]}; first answer after ${START_MS[e2guardian]} ms"
}

# squid with squidGuard (8 helpers), the list compiled into a Berkeley DB first.
start_squid() {
    local dir=$WORK/squid t0 t1 owner=""
    if ! command -v squid >/dev/null; then
        UNAVAILABLE[squid]="the squid package is not installed"
        return 0
    fi
    if ! command -v squidGuard >/dev/null; then
        UNAVAILABLE[squid]="the squidguard package is not installed"
        return 0
    fi
    mkdir -p "$dir/db/blocked" "$dir/log"
    cp "$WORK/list/domains" "$dir/db/blocked/domains"
    local user_line=""
    if [[ $(id -u) == 0 ]] && id proxy >/dev/null 2>&1; then
        owner=proxy
        user_line="cache_effective_user proxy"
    fi
    fill "$BENCH_FILES/squidGuard.conf.in" "$dir/squidGuard.conf" "DIR=$dir" "ORIGIN_PORT=$ORIGIN_PORT"
    fill "$BENCH_FILES/squid.conf.in" "$dir/squid.conf" "DIR=$dir" "PORT=${PROXY_PORT[squid]}" "USER_LINE=$user_line"
    t0=$(now_ms)
    squidGuard -c "$dir/squidGuard.conf" -C all >"$dir/compile.log" 2>&1 ||
        die "squidGuard -C could not compile the list: $(tail -n 3 "$dir/compile.log")"
    t1=$(now_ms)
    [[ -s "$dir/db/blocked/domains.db" ]] || die "squidGuard -C made no domains.db (see $dir/compile.log and $dir/log)"
    NOTES[squidguard_compile_ms]=$((t1 - t0))
    chmod -R a+rX "$dir"
    [[ -n "$owner" ]] && chown -R "$owner:" "$dir"
    squid -k parse -f "$dir/squid.conf" >"$dir/parse.log" 2>&1 ||
        die "squid refused its configuration: $(grep -m 3 -iE 'error|fatal' "$dir/parse.log")"
    t0=$(now_ms)
    start_daemon squid "$dir/stdout.log" 10 squid -N -f "$dir/squid.conf" -n schoolgatebench
    FILTER_PID[squid]=$DAEMON_PID
    wait_ready "squid+squidGuard" "$DAEMON_PID" "http://127.0.0.1:$ORIGIN_PORT/1k.html" \
        "http://127.0.0.1:${PROXY_PORT[squid]}" "$dir/cache.log" || die "squid did not start"
    START_MS[squid]=$(($(now_ms) - t0))
    log "squid+squidGuard: listening on 127.0.0.1:${PROXY_PORT[squid]}; squidGuard -C took ${NOTES[squidguard_compile_ms]} ms; first answer after ${START_MS[squid]} ms"
}

# ---------------------------------------------------------------------------
# 5. Measurements. Each appends "round target metric value" to RESULTS.

record() { echo "$1 $2 $3 $4" >>"$RESULTS"; }

# settle ROUND TARGET KIND: waits until every running filter is idle (at most
# one clock tick of CPU, under 2% of a core, in half a second), so work left
# over from one measurement does not run during the next, whichever filter that
# measures. For schoolgate that also means its monitor has examined every event
# logged so far: the monitor looks every few seconds, so a moment of idle CPU
# between its passes says nothing; its metrics say how far it has read. Records
# how long it waited; gives up after SETTLE_MAX seconds.
settle() {
    local round=$1 target=$2 kind=$3 pid before after waited=0 passes=""
    local -a pids=()
    for pid in "${FILTER_PID[@]}"; do
        kill -0 "$pid" 2>/dev/null && pids+=("$pid")
    done
    ((${#pids[@]})) || return 0
    while :; do
        before=0 after=0
        for pid in "${pids[@]}"; do before=$((before + $(cpu_ticks "$pid"))); done
        sleep 0.5
        for pid in "${pids[@]}"; do after=$((after + $(cpu_ticks "$pid"))); done
        if ((after - before <= 1)) && schoolgate_caught_up; then
            break
        fi
        waited=$((waited + 1))
        if ((waited >= SETTLE_MAX * 2)); then
            log "round $round, before $target $kind: the filters were still busy after ${SETTLE_MAX} s; measuring anyway"
            break
        fi
    done
    record "$round" "$target" "$kind.settle_s" "$(awk -v w="$waited" 'BEGIN {printf "%.1f", w / 2}')"
    ((waited > 2)) && log "round $round, before $target $kind: waited $(awk -v w="$waited" 'BEGIN {printf "%.1f", w / 2}') s for the filters to go idle"
    return 0
}

# schoolgate_caught_up: true when schoolgate is not running, or its activity
# queue is empty and its monitor has since made a whole pass (begun after the
# queue emptied, so the second to end after that) with no backlog. Uses
# settle's `passes`: the monitor's pass count when the queue was first seen
# empty. Events already seen through are remembered in CAUGHT_UP_AT (the
# written total), so a measurement of another filter waits for nothing.
CAUGHT_UP_AT=-1
schoolgate_caught_up() {
    local pid=${FILTER_PID[schoolgate]:-} metrics depth count backlog written
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
    metrics=$(curl -fsS --max-time 2 "http://127.0.0.1:$METRICS_PORT/metrics") || return 1
    depth=$(awk '$1 == "schoolgate_activity_queue_depth" {print $2}' <<<"$metrics")
    written=$(awk '$1 == "schoolgate_activity_written_total" {print $2}' <<<"$metrics")
    count=$(awk '$1 == "schoolgate_monitor_passes_total" {print $2}' <<<"$metrics")
    backlog=$(awk '$1 == "schoolgate_monitor_backlog_events" {print $2}' <<<"$metrics")
    [[ $depth == 0 ]] || { passes=""; return 1; }
    # Monitoring off, or nothing logged since it last caught up.
    [[ -z $count || $written == "$CAUGHT_UP_AT" ]] && return 0
    [[ -z $passes ]] && { passes=$count; return 1; }
    ((count >= passes + 2)) && [[ $backlog == 0 ]] || return 1
    CAUGHT_UP_AT=$written
}

# wrk_run ROUND TARGET KIND CONNECTIONS SECONDS PATH-OR-URL [BLOCK-COUNTING]
wrk_run() {
    local round=$1 target=$2 kind=$3 conns=$4 secs=$5 what=$6 counting=${7:-0}
    settle "$round" "$target" "$kind"
    local out=$RESULTS_DIR/raw/round$round-$target-$kind.txt url pid before after line
    local -a env=()
    if [[ $target == direct ]]; then
        url="http://127.0.0.1:$ORIGIN_PORT$what"
    else
        url="http://127.0.0.1:${PROXY_PORT[$target]}/"
        env=(BENCH_URL="$what" BENCH_HOST="$(sed -E 's|^http://([^/]+).*|\1|' <<<"$what")")
    fi
    [[ $counting == 1 ]] && env+=(BENCH_MARKER="$ORIGIN_MARKER")
    pid=${FILTER_PID[$target]:-}
    [[ -n "$pid" ]] && before=$(cpu_ticks "$pid")
    env "${env[@]}" wrk -t "$THREADS" -c "$conns" -d "${secs}s" --latency --timeout 10s \
        -s "$BENCH_FILES/wrk-report.lua" "$url" >"$out" 2>&1 ||
        die "wrk failed for $target ($kind); see $out"
    line=$(grep '^RESULT ' "$out") || die "wrk printed no result for $target ($kind); see $out"
    local requests duration_us bytes p50 p99 errs status_errs
    requests=$(sed -E 's/.* requests=([0-9]+).*/\1/' <<<"$line")
    duration_us=$(sed -E 's/.* duration_us=([0-9]+).*/\1/' <<<"$line")
    bytes=$(sed -E 's/.* bytes=([0-9]+).*/\1/' <<<"$line")
    p50=$(sed -E 's/.* p50_us=([0-9]+).*/\1/' <<<"$line")
    p99=$(sed -E 's/.* p99_us=([0-9]+).*/\1/' <<<"$line")
    # Socket errors (connect, read, write, timeout) apart from answers whose
    # status is not 2xx or 3xx (every block page that is a 403, for instance).
    errs=$(awk '{s = 0; for (i = 1; i <= NF; i++) if ($i ~ /^err_/ && $i !~ /^err_status/) {split($i, a, "="); s += a[2]} print s}' <<<"$line")
    status_errs=$(sed -E 's/.* err_status=([0-9]+).*/\1/' <<<"$line")
    record "$round" "$target" "$kind.rps" "$(awk -v r="$requests" -v d="$duration_us" 'BEGIN {printf "%.1f", r / (d / 1e6)}')"
    record "$round" "$target" "$kind.mbps" "$(awk -v b="$bytes" -v d="$duration_us" 'BEGIN {printf "%.1f", b / d}')"
    record "$round" "$target" "$kind.p50_ms" "$(awk -v v="$p50" 'BEGIN {printf "%.2f", v / 1000}')"
    record "$round" "$target" "$kind.p99_ms" "$(awk -v v="$p99" 'BEGIN {printf "%.2f", v / 1000}')"
    record "$round" "$target" "$kind.errors" "$errs"
    record "$round" "$target" "$kind.not_2xx_3xx" "$status_errs"
    record "$round" "$target" "$kind.requests" "$requests"
    if [[ $kind == big ]] && ((requests > 0 && bytes / requests < 1048576)); then
        log "round $round, $target, big: answers averaged $((bytes / requests)) bytes, less than the 1 MiB file: it is not passing the file whole (see $out)"
        record "$round" "$target" big.short_answers 1
    fi
    if [[ $counting == 1 ]]; then
        local passed blocked failed
        passed=$(sed -E 's/.* passed=([0-9]+).*/\1/' <<<"$line")
        blocked=$(sed -E 's/.* blocked=([0-9]+).*/\1/' <<<"$line")
        failed=$(sed -E 's/.* failed=([0-9]+).*/\1/' <<<"$line")
        record "$round" "$target" "$kind.block_rate" \
            "$(awk -v b="$blocked" -v p="$passed" -v f="$failed" 'BEGIN {t = b + p + f; printf "%.4f", t ? b / t : 0}')"
    fi
    if [[ -n "$pid" ]]; then
        after=$(cpu_ticks "$pid")
        record "$round" "$target" "$kind.cpu_us_per_req" \
            "$(awk -v t=$((after - before)) -v hz="$CLK_TCK" -v r="$requests" 'BEGIN {printf "%.0f", r ? t * 1e6 / hz / r : 0}')"
        record "$round" "$target" "$kind.rss_mib" "$(awk -v k="$(rss_kib "$pid")" 'BEGIN {printf "%.1f", k / 1024}')"
        record "$round" "$target" "$kind.pss_mib" "$(awk -v k="$(pss_kib "$pid")" 'BEGIN {printf "%.1f", k / 1024}')"
        record "$round" "$target" "$kind.processes" "$(process_tree "$pid" | wc -l)"
    fi
    log "round $round, $target, $kind: $(awk -v r="$requests" -v d="$duration_us" 'BEGIN {printf "%.0f req/s", r / (d / 1e6)}'), p50 $((p50 / 1000)) ms, p99 $((p99 / 1000)) ms, socket errors $errs, answers not 2xx/3xx $status_errs"
}

# tunnel_run ROUND TARGET: TUNNEL_FILES downloads of the 1 MiB file over TLS,
# TUNNEL_PARALLEL connections at once, each a CONNECT tunnel through the proxy.
tunnel_run() {
    local round=$1 target=$2 t0 t1 ok bytes
    settle "$round" "$target" tunnel
    local out=$RESULTS_DIR/raw/round$round-$target-tunnel.txt
    local -a via=()
    [[ $target != direct ]] && via=(--proxy "http://127.0.0.1:${PROXY_PORT[$target]}")
    t0=$(date +%s%N)
    # --no-progress-meter: with -Z, curl draws its progress meter even with -s.
    curl -s --no-progress-meter --noproxy '' "${via[@]}" --cacert "$WORK/nginx/origin.crt" \
        -Z --parallel-max "$TUNNEL_PARALLEL" -o /dev/null -w '%{http_code} %{size_download}\n' \
        "https://127.0.0.1:$TLS_PORT/1m.jpg?n=[1-$TUNNEL_FILES]" >"$out" 2>"$out.stderr" || true
    t1=$(date +%s%N)
    ok=$(awk '$1 == 200 && $2 == 1048576' "$out" | wc -l)
    bytes=$(awk '$1 == 200 {s += $2} END {print s + 0}' "$out")
    if ((ok != TUNNEL_FILES)); then
        log "round $round, $target, tunnel: only $ok of $TUNNEL_FILES downloads came back whole (see $out)"
    fi
    record "$round" "$target" tunnel.mbps "$(awk -v b="$bytes" -v ns=$((t1 - t0)) 'BEGIN {printf "%.1f", b / (ns / 1000)}')"
    record "$round" "$target" tunnel.ok "$ok"
    log "round $round, $target, tunnel: $(awk -v b="$bytes" -v ns=$((t1 - t0)) 'BEGIN {printf "%.0f MB/s", b / (ns / 1000)}') ($ok/$TUNNEL_FILES whole)"
}

# probe TARGET: one allowed request, one for the blocked domain and one CONNECT
# to it, with curl, to record how each filter answers (status, headers,
# whether it keeps the connection). Sets BLOCK_ANSWER[target], CONNECT_ANSWER[target].
declare -A BLOCK_ANSWER=() CONNECT_ANSWER=()
probe() {
    local target=$1 section
    local proxy="http://127.0.0.1:${PROXY_PORT[$1]}" out=$RESULTS_DIR/raw/probe-$1.txt
    local pattern='^(< |\* (Closing connection|Connection #[0-9]+ .*left intact|CONNECT tunnel failed))'
    {
        echo "# allowed: http://127.0.0.1:$ORIGIN_PORT/1k.html"
        curl -s -v -o /dev/null --noproxy '' --proxy "$proxy" --max-time 10 \
            "http://127.0.0.1:$ORIGIN_PORT/1k.html" 2>&1 | grep -E "$pattern" || true
        echo "# blocked: http://$BLOCKED_DOMAIN/"
        curl -s -v -o "$RESULTS_DIR/raw/probe-$1-block-page.html" --noproxy '' --proxy "$proxy" --max-time 10 \
            "http://$BLOCKED_DOMAIN/" 2>&1 | grep -E "$pattern" || true
        echo "# blocked over CONNECT: $BLOCKED_DOMAIN:443"
        curl -s -v -o /dev/null --noproxy '' --proxy "$proxy" --max-time 10 \
            "https://$BLOCKED_DOMAIN/" 2>&1 | grep -E "$pattern" || true
    } >"$out" 2>&1
    for section in blocked connect; do
        local text status extra=""
        if [[ $section == blocked ]]; then
            text=$(sed -n '/^# blocked: /,/^# blocked over CONNECT/p' "$out" | tr -d '\r')
        else
            text=$(sed -n '/^# blocked over CONNECT/,$p' "$out" | tr -d '\r')
        fi
        status=$(grep -m 1 '^< HTTP/' <<<"$text" | sed 's/^< //; s/ *$//' || true)
        if grep -qi '^< Location:' <<<"$text"; then
            extra+=", Location: $(grep -m 1 -i '^< Location:' <<<"$text" | sed 's/^< [Ll]ocation: *//' | cut -c 1-80)"
        fi
        if grep -q 'Closing connection' <<<"$text"; then
            extra+=", then closes the connection"
        elif grep -q 'left intact' <<<"$text"; then
            extra+=", keeps the connection"
        fi
        if [[ $section == blocked ]]; then
            BLOCK_ANSWER[$target]="${status:-no answer}$extra"
        else
            CONNECT_ANSWER[$target]="${status:-no answer}$extra"
        fi
    done
    log "$target answers the blocked domain with ${BLOCK_ANSWER[$target]}; CONNECT to it with ${CONNECT_ANSWER[$target]} (see $out)"
}

# ---------------------------------------------------------------------------
# Main.

main() {
    local t targets_up=() round started=$SECONDS
    install_packages
    local tool
    for tool in nginx wrk curl openssl python3 setsid awk; do
        command -v "$tool" >/dev/null || die "$tool is needed and is not installed"
    done

    mkdir -p "$RESULTS_DIR/raw"
    rm -f "$RESULTS_DIR"/raw/*.txt "$RESULTS_DIR"/raw/*.html
    RESULTS=$RESULTS_DIR/results.txt
    : >"$RESULTS"
    # E2Guardian lower-cases the paths in its lists' .Include lines, so the
    # temporary folder's path must have no capitals (mktemp's names do).
    local base=${TMPDIR:-/tmp}
    [[ $base =~ [A-Z] ]] && base=/tmp
    WORK=$base/bench-proxy.$$.$RANDOM
    mkdir -m 755 "$WORK" || die "cannot make the temporary folder $WORK"
    mkdir -p "$WORK/list"

    build_list

    read -r ORIGIN_PORT TLS_PORT sg_port e2_port sq_port METRICS_PORT < <(free_ports 6)
    PROXY_PORT=([schoolgate]=$sg_port [e2guardian]=$e2_port [squid]=$sq_port)
    start_origin

    for t in $TARGETS; do
        case $t in
        direct) ;;
        schoolgate) start_schoolgate ;;
        e2guardian) start_e2guardian ;;
        squid) start_squid ;;
        *) die "unknown target '$t' in TARGETS (direct, schoolgate, e2guardian, squid)" ;;
        esac
        if [[ -n "${UNAVAILABLE[$t]:-}" ]]; then
            log "SKIPPED $t: ${UNAVAILABLE[$t]}"
        else
            targets_up+=("$t")
            if [[ $t != direct ]]; then
                probe "$t"
                record 0 "$t" start_ms "${START_MS[$t]}"
                record 0 "$t" rss_start_mib "$(awk -v k="$(rss_kib "${FILTER_PID[$t]}")" 'BEGIN {printf "%.1f", k / 1024}')"
            fi
        fi
    done

    log "load average before measuring: $(cut -d ' ' -f 1-3 /proc/loadavg)"
    LOADAVG=$(cut -d ' ' -f 1-3 /proc/loadavg)
    for ((round = 1; round <= ROUNDS; round++)); do
        for t in "${targets_up[@]}"; do
            if [[ -n "${FILTER_PID[$t]:-}" ]] && ! kill -0 "${FILTER_PID[$t]}" 2>/dev/null; then
                die "$t died during the run (round $round); its files are in $WORK (run again with KEEP_WORK=1 to keep them)"
            fi
            local what_small="/1k.html" what_big="/1m.jpg"
            if [[ $t != direct ]]; then
                what_small="http://127.0.0.1:$ORIGIN_PORT/1k.html"
                what_big="http://127.0.0.1:$ORIGIN_PORT/1m.jpg"
            fi
            wrk_run "$round" "$t" small "$CONNECTIONS" "$DURATION" "$what_small"
            if [[ $t != direct ]]; then
                wrk_run "$round" "$t" blocked "$CONNECTIONS" "$SHORT_DURATION" "http://$BLOCKED_DOMAIN/" 1
            fi
            wrk_run "$round" "$t" big "$BIG_CONNECTIONS" "$SHORT_DURATION" "$what_big"
            tunnel_run "$round" "$t"
        done
    done
    for t in "${targets_up[@]}"; do
        [[ $t != direct ]] &&
            record 0 "$t" rss_end_mib "$(awk -v k="$(rss_kib "${FILTER_PID[$t]}")" 'BEGIN {printf "%.1f", k / 1024}')"
    done
    if [[ -n "${FILTER_PID[schoolgate]:-}" ]]; then
        # Stopped here so that its closing line (events written and dropped
        # by the activity log) goes into the report.
        stop_daemon "${FILTER_PID[schoolgate]}"
        NOTES[schoolgate_stopped]=$(grep -m 1 '^stopped' "$WORK/schoolgate/serve.log" || echo "no closing line in its log")
        log "schoolgate: ${NOTES[schoolgate_stopped]}"
    fi

    # The report: the machine, versions, settings and every unavailable part.
    local meta=$RESULTS_DIR/meta.txt key
    {
        echo "command=$COMMAND"
        echo "date=$(date -u +%Y-%m-%dT%H:%MZ)"
        echo "nproc=$(nproc)"
        echo "cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
        echo "kernel=$(uname -r)"
        echo "os=$(sed -n 's/^PRETTY_NAME="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' /etc/os-release)"
        echo "memory=$(awk '/^MemTotal:/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)"
        echo "loadavg=$LOADAVG"
        echo "nginx=$(package_version nginx)"
        echo "wrk=$(package_version wrk)"
        echo "e2guardian=$(package_version e2guardian)"
        echo "squid=$(package_version squid)"
        echo "squidguard=$(package_version squidguard)"
        echo "curl=$(package_version curl)"
        echo "schoolgate_version=${SCHOOLGATE_VERSION:-}"
        echo "list_source=$LIST_SOURCE"
        echo "list_categories=$LIST_CATEGORIES"
        echo "list_count=$LIST_COUNT"
        echo "blocked_domain=$BLOCKED_DOMAIN"
        echo "duration=$DURATION"
        echo "short_duration=$SHORT_DURATION"
        echo "rounds=$ROUNDS"
        echo "connections=$CONNECTIONS"
        echo "threads=$THREADS"
        echo "big_connections=$BIG_CONNECTIONS"
        echo "tunnel_files=$TUNNEL_FILES"
        echo "tunnel_parallel=$TUNNEL_PARALLEL"
        echo "tunnel_threads=$TUNNEL_THREADS"
        echo "targets=$TARGETS"
        echo "monitoring=${MONITORING:-as shipped (on)}"
        echo "not_installable=${NOT_INSTALLABLE[*]}"
        if [[ -f "$WORK/squid/cache.log" ]]; then
            echo "squid_busy_warnings=$(grep -c 'redirector processes are busy' "$WORK/squid/cache.log" || true)"
        fi
        for key in "${!NOTES[@]}"; do echo "$key=${NOTES[$key]}"; done
        for key in "${!UNAVAILABLE[@]}"; do echo "unavailable_$key=${UNAVAILABLE[$key]}"; done
        for t in "${!BLOCK_ANSWER[@]}"; do echo "block_answer_$t=${BLOCK_ANSWER[$t]}"; done
        for t in "${!CONNECT_ANSWER[@]}"; do echo "connect_answer_$t=${CONNECT_ANSWER[$t]}"; done
    } >"$meta"

    local -a write=()
    [[ "$WRITE_DOCS" == 1 ]] && write=(--write "$REPO/docs/benchmarks.md")
    python3 "$BENCH_FILES/proxy-report.py" "$meta" "$RESULTS" "${write[@]}"
    log "raw outputs are in $RESULTS_DIR; the run took $(((SECONDS - started) / 60)) min $(((SECONDS - started) % 60)) s"
}

main "$@"
