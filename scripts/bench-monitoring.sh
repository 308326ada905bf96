#!/usr/bin/env bash
# Does monitoring slow the proxy down? The same school-like traffic through
# `schoolgate serve` with [monitoring] on and with it off, interleaved,
# ROUNDS times: wrk with 64 connections through the proxy to an nginx origin
# on loopback, one request in SEARCH_EVERY a web search (Bing's address
# sent to the origin by [proxy.resolve]), one search in twenty a worrying
# one, so the monitor matches every search term, raises alerts and folds
# repeats while the load runs. Reports requests per second, p50/p99, the
# proxy's CPU per request, and whether the monitor kept up (how far behind
# the activity log it was when the load stopped, and how long it took to
# catch up).
#
#   ./scripts/bench-monitoring.sh                  # 3 rounds of 15 s each
#   ROUNDS=1 DURATION=5 WRITE_DOCS=0 ./scripts/bench-monitoring.sh
#
# Needs nginx, wrk, curl and python3 (apt-get install nginx-light wrk curl);
# nothing but 127.0.0.1 is contacted. Writes the "Monitoring on and off"
# section of docs/benchmarks.md unless WRITE_DOCS=0.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${SCHOOLGATE_BIN:-$REPO/target/release/schoolgate}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-15}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
SEARCH_EVERY=${SEARCH_EVERY:-10}
WRITE_DOCS=${WRITE_DOCS:-1}

log() { printf '[bench-monitoring] %s\n' "$*" >&2; }
die() {
    printf '[bench-monitoring] FAILED: %s\n' "$*" >&2
    exit 1
}
for n in ROUNDS DURATION CONNECTIONS THREADS SEARCH_EVERY; do
    [[ ${!n} =~ ^[1-9][0-9]*$ ]] || die "$n must be a whole number above 0, not '${!n}'"
done
for tool in nginx wrk curl python3; do
    command -v "$tool" >/dev/null || die "$tool is not installed (apt-get install nginx-light wrk curl python3)"
done
if [[ -z ${SCHOOLGATE_BIN:-} ]]; then
    log "cargo build --release --bin schoolgate"
    (cd "$REPO" && cargo build --release --locked --bin schoolgate) >&2 || die "the release build failed"
fi
[[ -x "$BIN" ]] || die "$BIN is not an executable file"

WORK=$(mktemp -d)
PROXY_PID=""
cleanup() {
    local status=$?
    trap - EXIT INT TERM
    [[ -n "$PROXY_PID" ]] && kill -INT "$PROXY_PID" 2>/dev/null && wait "$PROXY_PID" 2>/dev/null
    [[ -f "$WORK/nginx.pid" ]] && kill -QUIT "$(cat "$WORK/nginx.pid")" 2>/dev/null
    rm -rf -- "$WORK"
    exit "$status"
}
trap cleanup EXIT INT TERM

read -r ORIGIN PROXY METRICS CONSOLE < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(4)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])')

mkdir -p "$WORK/www" "$WORK/tmp"
head -c 1024 /dev/zero | tr '\0' 'x' >"$WORK/www/1k.html"
cat >"$WORK/nginx.conf" <<EOF
worker_processes auto;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_timeout 120s;
    keepalive_requests 1000000;
    client_body_temp_path $WORK/tmp;
    proxy_temp_path $WORK/tmp;
    fastcgi_temp_path $WORK/tmp;
    uwsgi_temp_path $WORK/tmp;
    scgi_temp_path $WORK/tmp;
    server {
        listen 127.0.0.1:$ORIGIN;
        root $WORK/www;
        location = /search { try_files /1k.html =404; }
    }
}
EOF
# nginx's workers may run as another user: let them read the page.
chmod -R a+rX "$WORK"
nginx -c "$WORK/nginx.conf" || die "nginx did not start (see $WORK/nginx-error.log)"

# One data folder per setting, each with the benchmark's policy (one pupil
# profile, safe search off so searches reach the origin).
for mode in on off; do
    cat >"$WORK/$mode.toml" <<EOF
[proxy]
listen = ["127.0.0.1:$PROXY"]
connect_ports = []
[proxy.resolve]
"www.bing.com" = "127.0.0.1"
[metrics]
listen = "127.0.0.1:$METRICS"
[console]
listen = "127.0.0.1:$CONSOLE"
[monitoring]
enabled = $([[ $mode == on ]] && echo true || echo false)
EOF
    "$BIN" --data "$WORK/$mode" check-config --config "$WORK/$mode.toml" >"$WORK/check-$mode.log" 2>&1 ||
        die "schoolgate refuses the benchmark's configuration: $(tail -n 2 "$WORK/check-$mode.log")"
    "$BIN" --data "$WORK/$mode" --by bench-monitoring policy import "$REPO/scripts/bench/schoolgate-policy.toml" \
        --reason "Benchmark policy: one pupil profile, every request looked up" >"$WORK/policy-$mode.log" 2>&1 ||
        die "policy import failed: $(tail -n 3 "$WORK/policy-$mode.log")"
done

db_query() {
    python3 - "$1" "$2" <<'EOF'
import sqlite3, sys
con = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True, timeout=10)
print(*con.execute(sys.argv[2]).fetchone())
EOF
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
CLK_TCK=$(getconf CLK_TCK)
RESULTS=$WORK/results
: >"$RESULTS"

measure() {
    local round=$1 mode=$2 db=$WORK/$2/schoolgate.db before after line requests
    "$BIN" --data "$WORK/$mode" serve --config "$WORK/$mode.toml" >"$WORK/serve-$mode.log" 2>&1 &
    PROXY_PID=$!
    for ((i = 0; i < 100; i++)); do
        curl -fs -o /dev/null -x "127.0.0.1:$PROXY" "http://127.0.0.1:$ORIGIN/1k.html" && break
        kill -0 "$PROXY_PID" 2>/dev/null || die "schoolgate serve stopped: $(tail -n 3 "$WORK/serve-$mode.log")"
        sleep 0.2
    done
    curl -fs -o /dev/null -x "127.0.0.1:$PROXY" "http://www.bing.com:$ORIGIN/search?q=test" ||
        die "a search through the proxy did not reach the origin"
    # Warm up, then measure.
    ORIGIN_PORT=$ORIGIN SEARCH_EVERY=$SEARCH_EVERY wrk -t "$THREADS" -c "$CONNECTIONS" -d 3s \
        -s "$REPO/scripts/bench/wrk-search-mix.lua" "http://127.0.0.1:$PROXY/" >/dev/null 2>&1
    sleep 4
    before=$(cpu_ticks "$PROXY_PID")
    line=$(ORIGIN_PORT=$ORIGIN SEARCH_EVERY=$SEARCH_EVERY wrk -t "$THREADS" -c "$CONNECTIONS" \
        -d "${DURATION}s" --timeout 10s -s "$REPO/scripts/bench/wrk-search-mix.lua" \
        "http://127.0.0.1:$PROXY/" 2>&1 | grep '^RESULT ') || die "wrk printed no result"
    after=$(cpu_ticks "$PROXY_PID")
    requests=$(sed -E 's/.* requests=([0-9]+).*/\1/' <<<"$line")
    local rps p50 p99 errors not_ok cpu
    rps=$(awk -v r="$requests" -v d="$(sed -E 's/.* duration_us=([0-9]+).*/\1/' <<<"$line")" 'BEGIN {printf "%.0f", r / (d / 1e6)}')
    p50=$(awk -v v="$(sed -E 's/.* p50_us=([0-9]+).*/\1/' <<<"$line")" 'BEGIN {printf "%.2f", v / 1000}')
    p99=$(awk -v v="$(sed -E 's/.* p99_us=([0-9]+).*/\1/' <<<"$line")" 'BEGIN {printf "%.2f", v / 1000}')
    errors=$(sed -E 's/.* errors=([0-9]+).*/\1/' <<<"$line")
    not_ok=$(sed -E 's/.* not_2xx_3xx=([0-9]+).*/\1/' <<<"$line")
    cpu=$(awk -v t=$((after - before)) -v hz="$CLK_TCK" -v r="$requests" 'BEGIN {printf "%.0f", r ? t * 1e6 / hz / r : 0}')
    local behind="–" caught="–"
    if [[ $mode == on ]]; then
        # How far the monitor is behind the log the moment the load stops,
        # and how long it takes to read the rest (it looks every 3 s).
        sleep 0.2
        behind=$(db_query "$db" "SELECT (SELECT COALESCE(MAX(id), 0) FROM activity) - COALESCE((SELECT activity FROM monitor_cursor), 0)")
        local t0 end lag
        t0=$(date +%s%3N)
        end=$(db_query "$db" "SELECT COALESCE(MAX(id), 0) FROM activity")
        caught="over 30 s"
        for ((i = 0; i < 300; i++)); do
            lag=$(db_query "$db" "SELECT $end - COALESCE((SELECT activity FROM monitor_cursor), 0)")
            if ((lag <= 0)); then
                caught="$(awk -v ms=$(($(date +%s%3N) - t0)) 'BEGIN {printf "%.1f s", ms / 1000}')"
                break
            fi
            sleep 0.1
        done
    fi
    kill -INT "$PROXY_PID"
    wait "$PROXY_PID" 2>/dev/null || true
    PROXY_PID=""
    echo "$round $mode $rps $p50 $p99 $cpu $errors $not_ok $behind|$caught" >>"$RESULTS"
    log "round $round, monitoring $mode: $rps req/s, p50 $p50 ms, p99 $p99 ms, $cpu µs CPU a request, errors $errors/$not_ok, monitor behind $behind events, caught up in $caught"
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for ((round = 1; round <= ROUNDS; round++)); do
    # Alternate which goes first, so neither always meets a warmer machine.
    if ((round % 2)); then order="on off"; else order="off on"; fi
    for mode in $order; do measure "$round" "$mode"; done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

db=$WORK/on/schoolgate.db
alerts=$(db_query "$db" "SELECT COUNT(*), COALESCE(SUM(count), 0) FROM alert")
searches=$(db_query "$db" "SELECT COUNT(*) FROM activity WHERE search_term IS NOT NULL")
events=$(db_query "$db" "SELECT COUNT(*) FROM activity")

median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
col() { awk -v m="$1" -v c="$2" '$2 == m {print $c}' "$RESULTS" | median; }
on_rps=$(col on 3)
off_rps=$(col off 3)
ratio=$(awk -v a="$on_rps" -v b="$off_rps" 'BEGIN {printf "%.3f", a / b}')

section=$(mktemp)
cpu_name=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
{
    echo "## Monitoring on and off"
    echo
    echo "\`scripts/bench-monitoring.sh\` (ROUNDS=$ROUNDS DURATION=$DURATION SEARCH_EVERY=$SEARCH_EVERY) on $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores ($cpu_name), load average $LOAD_BEFORE before and $LOAD_AFTER after."
    echo "$("$BIN" --version), built from $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')."
    echo "The same traffic through \`schoolgate serve\` with \`[monitoring] enabled\` true and false, interleaved:"
    echo "wrk, $CONNECTIONS connections, $THREADS threads, ${DURATION} s a run, to an nginx origin on loopback; one request in"
    echo "$SEARCH_EVERY a Bing search (the address sent to the origin by \`[proxy.resolve]\`), one search in twenty a"
    echo "worrying one (self-harm, plain and disguised), the rest a 1 KiB page. With monitoring on, every"
    echo "search term is matched against the phrase library while the load runs; over the whole run the monitor"
    echo "read $searches searches among $events events; alerts raised: $(cut -d' ' -f1 <<<"$alerts"), standing for $(cut -d' ' -f2 <<<"$alerts") signals (the"
    echo "traffic is all from one unidentified address, and repeats fold into one alert per person and category"
    echo "for an hour)."
    echo
    echo "| round | monitoring | req/s | p50 ms | p99 ms | proxy CPU µs a request | socket errors / not 2xx–3xx | monitor behind when the load stopped (events) / caught up after |"
    echo "|---|---|---|---|---|---|---|---|"
    while read -r round mode rps p50 p99 cpu errors not_ok lag; do
        echo "| $round | $mode | $rps | $p50 | $p99 | $cpu | $errors / $not_ok | ${lag%%|*} / ${lag#*|} |"
    done <"$RESULTS"
    echo
    echo "Medians: monitoring on $on_rps req/s (p99 $(col on 5) ms, $(col on 6) µs CPU a request), off $off_rps req/s (p99 $(col off 5) ms, $(col off 6) µs);"
    echo "on ÷ off = **$ratio**. Target (issue 7): phrase matching adds no measurable latency to the proxy."
    echo "Rounds on this shared machine vary by 10–20%; a difference smaller than that is not measurable here."
    echo
} >"$section"
cat "$section"
if [[ $WRITE_DOCS == 1 ]]; then
    python3 "$REPO/scripts/bench/replace-section.py" "$REPO/docs/benchmarks.md" "$section"
    log "written to docs/benchmarks.md"
fi
