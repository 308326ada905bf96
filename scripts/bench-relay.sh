#!/usr/bin/env bash
# How close is the web proxy to the cost of relaying at all? On one machine
# the load generator, the origin and the proxy share the cores, so any
# proxy costs a share of direct throughput just by reading and writing each
# request and answer once more. This measures that floor with the leanest
# relay there is, nginx as a reverse proxy with kept upstream connections
# (no forward-proxy parsing, no decision, no log), beside schoolgate in
# the same rounds: wrk, 64 connections, 2 threads, the 1 KiB page.
#
#   ./scripts/bench-relay.sh              # 3 rounds of 15 s
#   ROUNDS=1 DURATION=5 WRITE_DOCS=0 ./scripts/bench-relay.sh
#
# Needs nginx, wrk, curl and python3; nothing but 127.0.0.1 is contacted.
# Writes the "Web proxy: the cost of relaying" section of docs/benchmarks.md
# unless WRITE_DOCS=0.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${SCHOOLGATE_BIN:-$REPO/target/release/schoolgate}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-15}
WRITE_DOCS=${WRITE_DOCS:-1}

log() { printf '[bench-relay] %s\n' "$*" >&2; }
die() {
    printf '[bench-relay] FAILED: %s\n' "$*" >&2
    exit 1
}
for n in ROUNDS DURATION; do
    [[ ${!n} =~ ^[1-9][0-9]*$ ]] || die "$n must be a whole number above 0, not '${!n}'"
done
for tool in nginx wrk curl python3; do
    command -v "$tool" >/dev/null || die "$tool is not installed (apt-get install nginx-light wrk curl python3)"
done
if [[ -z ${SCHOOLGATE_BIN:-} ]]; then
    log "cargo build --release --bin schoolgate"
    (cd "$REPO" && cargo build --release --locked --bin schoolgate) >&2 || die "the release build failed"
fi

WORK=$(mktemp -d)
PROXY_PID=""
cleanup() {
    local status=$?
    trap - EXIT INT TERM
    [[ -n "$PROXY_PID" ]] && kill -INT "$PROXY_PID" 2>/dev/null && wait "$PROXY_PID" 2>/dev/null
    for pid in "$WORK"/*.pid; do [[ -f "$pid" ]] && kill -QUIT "$(cat "$pid")" 2>/dev/null; done
    rm -rf -- "$WORK"
    exit "$status"
}
trap cleanup EXIT INT TERM

read -r ORIGIN RELAY PROXY < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(3)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])')
mkdir -p "$WORK/www" "$WORK/tmp"
head -c 1024 /dev/zero | tr '\0' 'x' >"$WORK/www/1k.html"
temp_paths="client_body_temp_path $WORK/tmp; proxy_temp_path $WORK/tmp; fastcgi_temp_path $WORK/tmp; uwsgi_temp_path $WORK/tmp; scgi_temp_path $WORK/tmp;"
cat >"$WORK/origin.conf" <<EOF
worker_processes auto;
pid $WORK/origin.pid;
error_log $WORK/origin-error.log warn;
events { worker_connections 4096; }
http {
    access_log off; sendfile on; keepalive_timeout 120s; keepalive_requests 1000000;
    $temp_paths
    server { listen 127.0.0.1:$ORIGIN; root $WORK/www; }
}
EOF
# One worker, as schoolgate is one process.
cat >"$WORK/relay.conf" <<EOF
worker_processes 1;
pid $WORK/relay.pid;
error_log $WORK/relay-error.log warn;
events { worker_connections 4096; }
http {
    access_log off; keepalive_timeout 120s; keepalive_requests 1000000;
    $temp_paths
    upstream origin { server 127.0.0.1:$ORIGIN; keepalive 128; keepalive_requests 1000000; }
    server {
        listen 127.0.0.1:$RELAY;
        location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection ""; }
    }
}
EOF
chmod -R a+rX "$WORK"
nginx -c "$WORK/origin.conf" || die "the nginx origin did not start"
nginx -c "$WORK/relay.conf" || die "the nginx relay did not start"
printf '[proxy]\nlisten = ["127.0.0.1:%s"]\nconnect_ports = []\n[metrics]\nlisten = "127.0.0.1:0"\n[console]\nlisten = "127.0.0.1:0"\n' \
    "$PROXY" >"$WORK/schoolgate.toml"
"$BIN" --data "$WORK/data" --by bench-relay policy import "$REPO/scripts/bench/schoolgate-policy.toml" \
    --reason "Benchmark policy: one pupil profile, every request looked up" >"$WORK/policy.log" 2>&1 ||
    die "policy import failed: $(tail -n 3 "$WORK/policy.log")"
"$BIN" --data "$WORK/data" serve --config "$WORK/schoolgate.toml" >"$WORK/serve.log" 2>&1 &
PROXY_PID=$!
url="http://127.0.0.1:$ORIGIN/1k.html"
for ((i = 0; i < 100; i++)); do
    curl -fs -o /dev/null -x "127.0.0.1:$PROXY" "$url" && break
    kill -0 "$PROXY_PID" 2>/dev/null || die "schoolgate serve stopped: $(tail -n 3 "$WORK/serve.log")"
    sleep 0.2
done
curl -fs -o /dev/null "http://127.0.0.1:$RELAY/1k.html" || die "the nginx relay does not answer"
printf 'wrk.path = "%s"\nwrk.headers["Host"] = "127.0.0.1:%s"\n' "$url" "$ORIGIN" >"$WORK/proxy.lua"

# measure NAME: requests a second and p99 (ms) of one wrk run.
measure() {
    local out
    case $1 in
    direct) out=$(wrk -t2 -c64 -d"${DURATION}s" --latency "$url") ;;
    relay) out=$(wrk -t2 -c64 -d"${DURATION}s" --latency "http://127.0.0.1:$RELAY/1k.html") ;;
    schoolgate) out=$(wrk -t2 -c64 -d"${DURATION}s" --latency -s "$WORK/proxy.lua" "http://127.0.0.1:$PROXY/") ;;
    esac
    awk '/Requests\/sec/ {r = $2} /^ +99%/ {p = $2; if (p ~ /us$/) p = p / 1000; else if (p ~ /ms$/) p = p + 0; else p = p * 1000}
         END {printf "%.0f %.2f\n", r, p}' <<<"$out"
}
# settle: waits (at most 120 s) until schoolgate is idle, under one clock
# tick of CPU in half a second, so the last of its activity log being
# written after its run never falls on the next measurement.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$PROXY_PID/stat"; }
settle() {
    local before after i
    for ((i = 0; i < 240; i++)); do
        before=$(cpu_ticks)
        sleep 0.5
        after=$(cpu_ticks)
        ((after - before <= 1)) && return 0
    done
    log "schoolgate was still busy after 120 s; measuring anyway"
}
RESULTS=$WORK/results
wrk -t2 -c64 -d3s -s "$WORK/proxy.lua" "http://127.0.0.1:$PROXY/" >/dev/null
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for ((round = 1; round <= ROUNDS; round++)); do
    for target in direct relay schoolgate; do
        settle
        read -r rps p99 < <(measure "$target")
        echo "$round $target $rps $p99" >>"$RESULTS"
        log "round $round, $target: $rps req/s, p99 $p99 ms"
    done
done

median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
ratio() { awk -v t="$1" '$2 == t {print $3}' "$RESULTS" | median; }
direct=$(ratio direct)
relay=$(ratio relay)
school=$(ratio schoolgate)
section=$(mktemp)
{
    echo "## Web proxy: the cost of relaying"
    echo
    echo "\`scripts/bench-relay.sh\` (ROUNDS=$ROUNDS DURATION=$DURATION) on $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load average $LOAD_BEFORE at the start;"
    echo "$("$BIN" --version), built from $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')."
    echo "On one machine the load generator, the origin and the proxy share the cores, so any proxy"
    echo "costs a share of direct throughput just by reading and writing every request and answer once"
    echo "more. The floor here is the leanest relay there is: nginx $(nginx -v 2>&1 | sed 's|.*/||') as a reverse proxy"
    echo "with one worker and kept upstream connections, which parses no forward-proxy request, decides"
    echo "nothing and logs nothing. wrk, 64 connections, 2 threads, the 1 KiB page, each round measuring"
    echo "all three in turn, each after schoolgate had gone idle (the last of its activity log written)."
    echo
    echo "| round | target | req/s | p99 ms |"
    echo "|---|---|---|---|"
    while read -r round target rps p99; do
        echo "| $round | $target | $rps | $p99 |"
    done <"$RESULTS"
    echo
    echo "Medians: direct $direct, nginx relay $relay ($(awk -v a="$relay" -v b="$direct" 'BEGIN {printf "%.2f", a / b}') of direct),"
    echo "schoolgate $school ($(awk -v a="$school" -v b="$direct" 'BEGIN {printf "%.2f", a / b}') of direct, $(awk -v a="$school" -v b="$relay" 'BEGIN {printf "%.2f", a / b}') of the nginx relay)."
    echo
} >"$section"
cat "$section"
if [[ $WRITE_DOCS == 1 ]]; then
    python3 "$REPO/scripts/bench/replace-section.py" "$REPO/docs/benchmarks.md" "$section"
    log "written to docs/benchmarks.md"
fi
