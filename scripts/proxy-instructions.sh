#!/usr/bin/env bash
# CPU instructions the web proxy spends per request, counted with valgrind's
# callgrind. Unlike requests per second, the count hardly changes when other
# work shares the machine, so it can compare two builds on a busy machine.
#
#   ./scripts/proxy-instructions.sh                  # target/release/schoolgate
#   SCHOOLGATE_BIN=/path/to/schoolgate ./scripts/proxy-instructions.sh
#
# It starts nginx on loopback with a 1 KiB page, runs `schoolgate serve`
# under callgrind with the benchmark's policy (scripts/bench), warms up with
# wrk, zeroes the counters, sends LOAD_SECONDS of wrk load through the proxy, lets
# the activity writer catch up, and divides every instruction the process
# ran (all threads: the proxy, the SQLite writer) by the requests the proxy
# counted. Needs valgrind, wrk, nginx and curl; nothing but 127.0.0.1 is
# contacted. Under callgrind the proxy runs about 50 times slower: the load
# is kept small (CONNECTIONS, default 16).
#
# Settings (environment): SCHOOLGATE_BIN, LOAD_SECONDS (default 20), CONNECTIONS,
# KEEP_WORK=1 (keep the temporary folder with callgrind's output, for
# callgrind_annotate --inclusive=yes).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${SCHOOLGATE_BIN:-$REPO/target/release/schoolgate}
LOAD_SECONDS=${LOAD_SECONDS:-20}
CONNECTIONS=${CONNECTIONS:-16}
KEEP_WORK=${KEEP_WORK:-0}

die() {
    printf '[proxy-instructions] FAILED: %s\n' "$*" >&2
    exit 1
}
for tool in valgrind callgrind_control callgrind_annotate wrk nginx curl python3; do
    command -v "$tool" >/dev/null || die "$tool is not installed (apt-get install valgrind wrk nginx-light curl python3)"
done
[[ -x "$BIN" ]] || die "$BIN is not an executable file: build it with cargo build --release --bin schoolgate, or set SCHOOLGATE_BIN"
[[ $LOAD_SECONDS =~ ^[1-9][0-9]*$ ]] || die "LOAD_SECONDS must be a whole number above 0"
[[ $CONNECTIONS =~ ^[1-9][0-9]*$ ]] || die "CONNECTIONS must be a whole number above 0"

WORK=$(mktemp -d)
NGINX_STARTED=0
PROXY_PID=""
cleanup() {
    local status=$?
    trap - EXIT INT TERM
    if [[ -n "$PROXY_PID" ]] && kill -0 "$PROXY_PID" 2>/dev/null; then
        kill -INT "$PROXY_PID" 2>/dev/null || true
        wait "$PROXY_PID" 2>/dev/null || true
    fi
    if [[ $NGINX_STARTED == 1 && -f "$WORK/nginx.pid" ]]; then
        kill -QUIT "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
    fi
    if [[ $KEEP_WORK == 1 ]]; then
        printf '[proxy-instructions] kept %s\n' "$WORK" >&2
    else
        rm -rf -- "$WORK"
    fi
    exit "$status"
}
trap cleanup EXIT INT TERM

read -r ORIGIN PROXY METRICS < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(3)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])')

mkdir -p "$WORK/www" "$WORK/tmp"
head -c 1024 /dev/zero | tr '\0' 'a' >"$WORK/www/1k.html"
cat >"$WORK/nginx.conf" <<EOF
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_timeout 120s;
    keepalive_requests 1000000;
    client_body_temp_path $WORK/tmp;
    proxy_temp_path $WORK/tmp;
    fastcgi_temp_path $WORK/tmp;
    uwsgi_temp_path $WORK/tmp;
    scgi_temp_path $WORK/tmp;
    server { listen 127.0.0.1:$ORIGIN; root $WORK/www; }
}
EOF
nginx -c "$WORK/nginx.conf" || die "nginx did not start (see $WORK/nginx-error.log)"
NGINX_STARTED=1

cat >"$WORK/schoolgate.toml" <<EOF
[proxy]
listen = ["127.0.0.1:$PROXY"]
connect_ports = []
[metrics]
listen = "127.0.0.1:$METRICS"
EOF
"$BIN" --data "$WORK/data" --by proxy-instructions policy import "$REPO/scripts/bench/schoolgate-policy.toml" \
    --reason "Instruction count: one pupil profile, every request looked up" >"$WORK/policy.log" 2>&1 ||
    die "schoolgate policy import failed: $(tail -n 3 "$WORK/policy.log")"
valgrind --tool=callgrind --dump-instr=no --callgrind-out-file="$WORK/callgrind.out" \
    "$BIN" --data "$WORK/data" serve --config "$WORK/schoolgate.toml" >"$WORK/serve.log" 2>&1 &
PROXY_PID=$!
url="http://127.0.0.1:$ORIGIN/1k.html"
for ((i = 0; i < 240; i++)); do
    curl -fs -o /dev/null -x "127.0.0.1:$PROXY" "$url" && break
    kill -0 "$PROXY_PID" 2>/dev/null || die "schoolgate serve stopped: $(tail -n 3 "$WORK/serve.log")"
    sleep 0.5
done
printf 'wrk.path = "%s"\nwrk.headers["Host"] = "127.0.0.1:%s"\n' "$url" "$ORIGIN" >"$WORK/proxy.lua"

counted() {
    curl -fs "http://127.0.0.1:$METRICS/metrics" |
        awk '/^schoolgate_requests_total\{edge="proxy"/ { n += $2 } END { print n + 0 }'
}
wrk -t1 -c"$CONNECTIONS" -d5s -s "$WORK/proxy.lua" "http://127.0.0.1:$PROXY/" >/dev/null 2>&1 ||
    die "wrk failed during the warm-up"
sleep 1
callgrind_control --zero "$PROXY_PID" >/dev/null 2>&1
before=$(counted)
wrk -t1 -c"$CONNECTIONS" -d"${LOAD_SECONDS}s" -s "$WORK/proxy.lua" "http://127.0.0.1:$PROXY/" >"$WORK/wrk.txt" 2>&1 ||
    die "wrk failed: $(tail -n 3 "$WORK/wrk.txt")"
# The activity writer gathers events for up to 250 ms between batches.
sleep 2
after=$(counted)
callgrind_control --dump "$PROXY_PID" >/dev/null 2>&1
sleep 1
dump=$(find "$WORK" -maxdepth 1 -name "callgrind.out.*" | sort | tail -n 1)
[[ -n "$dump" ]] || die "callgrind wrote no dump"
instructions=$(callgrind_annotate "$dump" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
requests=$((after - before))
((requests > 0)) || die "no requests were counted through the proxy"
printf 'schoolgate %s: %d requests through the proxy, %d instructions, %d instructions per request (valgrind callgrind, all threads; %d wrk connections, 1 KiB page)\n' \
    "$("$BIN" --version 2>/dev/null || echo '(version unknown)')" "$requests" "$instructions" \
    $((instructions / requests)) "$CONNECTIONS"
