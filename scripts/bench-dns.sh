#!/usr/bin/env bash
# The DNS benchmark: schoolgate's DNS filter beside unbound and dnsmasq from
# Debian's packages, in one run, on loopback, with the same UT1 domain list
# and the same upstream, measured with dnsperf.
#
#   scripts/bench-dns.sh [SECONDS]      (default 15 s per measurement)
#
# The list: every UT1 category whose `usage` says black and not white,
# domains only, IPv4 entries left out (as in ../shared/PEERS.md), from
# ../shared/data/ut1 (or $UT1). unbound loads it as an RPZ zone, dnsmasq as
# one `address=/domain/` line per domain, schoolgate as a UT1 import with a
# profile that blocks every category. The upstream for allowed names is a
# separate dnsmasq answering *.allowed.test with a one-hour TTL.
#
# The query mix is half blocked names (a fixed sample of the list), half
# allowed names, all A queries; each target is warmed up first so allowed
# answers come from its cache. Results and this command go into the "## DNS"
# section of docs/benchmarks.md; other sections are left as they are.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seconds=${1:-15}
ut1=${UT1:-$root/../shared/data/ut1}
if [ ! -d "$ut1" ]; then
    echo "the UT1 lists are not at $ut1; set UT1=/path/to/ut1" >&2
    exit 1
fi

need=()
command -v dnsperf >/dev/null || need+=(dnsperf)
command -v unbound >/dev/null || need+=(unbound)
command -v dnsmasq >/dev/null || need+=(dnsmasq)
command -v dig >/dev/null || need+=(dnsutils)
if ((${#need[@]})); then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
    else
        echo "the DNS benchmark needs: ${need[*]} (sudo apt-get install ${need[*]})" >&2
        exit 1
    fi
fi

echo "building schoolgate (release)"
cargo build --release --locked -p schoolgate -q
sg=$root/target/release/schoolgate

work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [ -n "${KEEP:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# Ports: the upstream, then one per target.
upstream_port=25353
port=25400

# --- the list ---------------------------------------------------------------
mkdir -p "$work/ut1"
categories=()
for dir in "$ut1"/*/; do
    name=$(basename "$dir")
    [ -L "${dir%/}" ] && continue
    [ -f "$dir/usage" ] && [ -f "$dir/domains" ] || continue
    grep -qi black "$dir/usage" || continue
    grep -qi white "$dir/usage" && continue
    categories+=("$name")
    mkdir -p "$work/ut1/$name"
    cp "$dir/usage" "$work/ut1/$name/usage"
    # Plain host names only; IPv4 entries left out.
    tr 'A-Z' 'a-z' <"$dir/domains" | tr -d '\r' |
        grep -E '^[a-z0-9_-]+(\.[a-z0-9_-]+)+$' | grep -vE '^[0-9.]+$' >"$work/ut1/$name/domains" || true
done
[ -f "$ut1/global_usage" ] && cp "$ut1/global_usage" "$work/ut1/"
cat "$work"/ut1/*/domains | sort -u >"$work/blocked.txt"
domains=$(wc -l <"$work/blocked.txt")
echo "list: ${#categories[@]} categories, $domains unique domains"

# --- the query mix ----------------------------------------------------------
# A fixed sample: every Nth blocked domain, and as many allowed names.
step=$((domains / 5000))
awk -v s="$step" 'NR % s == 0 { print $0 " A" }' "$work/blocked.txt" | head -n 5000 >"$work/blocked-queries.txt"
n=$(wc -l <"$work/blocked-queries.txt")
seq 1 "$n" | awk '{ print "host" $1 ".allowed.test A" }' >"$work/allowed-queries.txt"
paste -d '\n' "$work/blocked-queries.txt" "$work/allowed-queries.txt" >"$work/queries.txt"
blocked_probe=$(head -n 1 "$work/blocked.txt")
allowed_probe=host1.allowed.test

# --- the upstream -----------------------------------------------------------
dnsmasq --keep-in-foreground --no-resolv --no-hosts --port="$upstream_port" \
    --listen-address=127.0.0.1 --bind-interfaces --pid-file= --user=root \
    --address=/allowed.test/192.0.2.1 --local-ttl=3600 --cache-size=0 &
pids+=($!)

# --- helpers ----------------------------------------------------------------
rss_mib() { awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
now_ms() { date +%s%3N; }
# Waits until `dig` gets the expected status for a name; prints the ms taken.
wait_for_answer() {
    local target_port=$1 name=$2 want=$3 started=$4
    for _ in $(seq 1 600); do
        if dig @127.0.0.1 -p "$target_port" +tries=1 +time=1 "$name" A 2>/dev/null | grep -q "status: $want"; then
            echo $(($(now_ms) - started))
            return 0
        fi
        sleep 0.05
    done
    echo "never answered" >&2
    return 1
}
# Runs dnsperf; prints "qps lost avg_ms max_ms".
perf() {
    local target_port=$1 length=$2
    dnsperf -s 127.0.0.1 -p "$target_port" -d "$work/queries.txt" -l "$length" -q 100 -t 2 2>&1 |
        awk '/Queries lost:/ { lost = $3 }
             /Queries per second:/ { qps = $4 }
             /Average Latency/ { avg = $4; gsub(/[(),]/, "", $6); gsub(/[(),]/, "", $8); max = $8 }
             END { printf "%.0f %s %.2f %.1f\n", qps, lost, avg * 1000, max * 1000 }'
}

results=()
notes=()
measure() {
    local label=$1 pid=$2 target_port=$3 load_ms=$4
    local rss_load rss_after
    rss_load=$(rss_mib "$pid")
    perf "$target_port" 3 >/dev/null # warm the cache
    read -r qps lost avg max < <(perf "$target_port" "$seconds")
    rss_after=$(rss_mib "$pid")
    if [ -n "${after_run:-}" ]; then notes+=("$label: $("$after_run")"); fi
    echo "$label: $qps q/s, $lost lost, $avg / $max ms, $rss_load -> $rss_after MiB, first answer after $load_ms ms"
    results+=("| $label | $qps | $lost | $avg / $max | $rss_load → $rss_after | $load_ms |")
    kill "$pid"
    wait "$pid" 2>/dev/null || true
}

# --- schoolgate -------------------------------------------------------------
data=$work/schoolgate
"$sg" --data "$data" --by bench lists import --format ut1 "$work/ut1" >/dev/null
"$sg" --data "$data" --by bench lists status --json >"$work/lists.json"
"$sg" --data "$data" --by bench policy export "$work/policy.toml"
python3 - "$work/lists.json" "$work/policy.toml" <<'PY'
import json, re, sys
lists = json.load(open(sys.argv[1]))
found = set()
def walk(x):
    if isinstance(x, dict):
        for k, v in x.items():
            if k == "category" and isinstance(v, str):
                found.add(v)
            walk(v)
    elif isinstance(x, list):
        for v in x:
            walk(v)
walk(lists)
text = open(sys.argv[2]).read()
# The guest profile blocks every category the lists hold, like the peers'
# "block the whole list".
start = text.index('id = "guest"')
line = re.compile(r'^blocked_categories = \[.*?\]$', re.M | re.S)
m = line.search(text, start)
cats = ", ".join(f'"{c}"' for c in sorted(found))
text = text[:m.start()] + f"blocked_categories = [{cats}]" + text[m.end():]
open(sys.argv[2], "w").write(text)
PY
"$sg" --data "$data" --by bench policy import "$work/policy.toml" --reason "DNS benchmark: block the whole list" >/dev/null
"$sg" --data "$data" --by bench networks add Bench --range 127.0.0.0/8 --profile guest >/dev/null
# The activity log's state after the run, from the metrics endpoint.
activity_after_run() {
    local address
    address=$(awk '/metrics listening on/ { print $NF }' "$work/schoolgate.log")
    python3 - "$address" <<'PY'
import sys, urllib.request
text = urllib.request.urlopen(f"http://{sys.argv[1]}/metrics").read().decode()
v = {l.split()[0]: l.split()[1] for l in text.splitlines() if l.startswith("schoolgate_activity")}
print("activity log after the run: {} events written, {} waiting, {} dropped".format(
    v.get("schoolgate_activity_written_total"), v.get("schoolgate_activity_queue_depth"),
    v.get("schoolgate_activity_dropped_total")))
PY
}
# As shipped: the activity log's defaults, every blocked query logged.
for queue in 1048576; do
    port=$((port + 1))
    cat >"$work/schoolgate.toml" <<EOF
[activity]
queue_capacity = $queue
[metrics]
listen = "127.0.0.1:0"
[proxy]
listen = ["127.0.0.1:0"]
[dns]
listen = ["127.0.0.1:$port"]
upstreams = ["127.0.0.1:$upstream_port"]
EOF
    started=$(now_ms)
    "$sg" --data "$data" serve --config "$work/schoolgate.toml" >"$work/schoolgate.log" 2>&1 &
    pid=$!
    pids+=("$pid")
    load=$(wait_for_answer "$port" "$blocked_probe" NXDOMAIN "$started")
    after_run=activity_after_run
    measure "schoolgate $(git -C "$root" describe --always --dirty), blocked queries logged" "$pid" "$port" "$load"
    after_run=
done

# --- unbound ----------------------------------------------------------------
unbound_conf() {
    local target_port=$1 rpz=$2
    cat <<EOF
server:
    interface: 127.0.0.1
    port: $target_port
    do-ip6: no
    access-control: 127.0.0.0/8 allow
    do-not-query-localhost: no
    num-threads: 2
    so-reuseport: yes
    chroot: ""
    username: ""
    directory: "$work"
    pidfile: ""
    use-syslog: no
    logfile: ""
    verbosity: 0
    module-config: "respip iterator"
    # The allowed names are under test., which unbound answers itself by default.
    local-zone: "test." nodefault
forward-zone:
    name: "."
    forward-addr: 127.0.0.1@$upstream_port
EOF
    if [ "$rpz" = yes ]; then
        cat <<EOF
rpz:
    name: rpz.schoolgate.bench
    zonefile: $work/rpz.zone
EOF
    fi
}
{
    echo '$TTL 60'
    echo '@ IN SOA localhost. root.localhost. 1 3600 600 86400 60'
    echo '@ IN NS localhost.'
    awk '{ print $0 " CNAME ."; print "*." $0 " CNAME ." }' "$work/blocked.txt"
} >"$work/rpz.zone"
for variant in yes no; do
    port=$((port + 1))
    unbound_conf "$port" "$variant" >"$work/unbound-$variant.conf"
    started=$(now_ms)
    unbound -d -c "$work/unbound-$variant.conf" >"$work/unbound-$variant.log" 2>&1 &
    pid=$!
    pids+=("$pid")
    if [ "$variant" = yes ]; then
        load=$(wait_for_answer "$port" "$blocked_probe" NXDOMAIN "$started")
        measure "unbound $(unbound -V | awk 'NR==1 { print $2 }') + RPZ zone" "$pid" "$port" "$load"
    else
        load=$(wait_for_answer "$port" "$allowed_probe" NOERROR "$started")
        measure "unbound, no list" "$pid" "$port" "$load"
    fi
done

# --- dnsmasq ----------------------------------------------------------------
awk '{ print "address=/" $0 "/" }' "$work/blocked.txt" >"$work/dnsmasq-list.conf"
: >"$work/dnsmasq-empty.conf"
for variant in list empty; do
    port=$((port + 1))
    started=$(now_ms)
    dnsmasq --keep-in-foreground --no-resolv --no-hosts --port="$port" \
        --listen-address=127.0.0.1 --bind-interfaces --pid-file= --user=root \
        --server="127.0.0.1#$upstream_port" --cache-size=10000 \
        --conf-file="$work/dnsmasq-$variant.conf" >"$work/dnsmasq-$variant.log" 2>&1 &
    pid=$!
    pids+=("$pid")
    if [ "$variant" = list ]; then
        load=$(wait_for_answer "$port" "$blocked_probe" NXDOMAIN "$started")
        measure "dnsmasq $(dnsmasq --version | awk 'NR==1 { print $3 }'), one address=/d/ per domain" "$pid" "$port" "$load"
    else
        load=$(wait_for_answer "$port" "$allowed_probe" NOERROR "$started")
        measure "dnsmasq, no list" "$pid" "$port" "$load"
    fi
done

# --- docs/benchmarks.md -----------------------------------------------------
cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
section=$(mktemp)
{
    echo "## DNS"
    echo
    echo "\`scripts/bench-dns.sh $seconds\` on $(date -u +%Y-%m-%d), $(nproc) cores ($cpu), shared"
    echo "with dnsperf and the upstream; all on loopback. The list: $domains unique domains from the"
    echo "${#categories[@]} UT1 categories whose \`usage\` says black and not white, IPv4 entries left out."
    echo "dnsperf: ${seconds} s, 100 queries outstanding, half blocked names, half allowed names"
    echo "(answers cached after a 3 s warm-up). \"first answer\" is the time from starting the"
    echo "program to its first blocked answer: the list load time. schoolgate decides every"
    echo "query with the policy in force (nothing decided is cached) and writes every blocked"
    echo "one to the activity log in SQLite, half the mix; its memory after the run includes that."
    echo
    echo "| target | QPS | lost | avg / max ms | resident MiB after load → after run | first answer (ms) |"
    echo "|---|---|---|---|---|---|"
    printf '%s\n' "${results[@]}"
    echo
    printf -- '- %s\n' "${notes[@]}"
    echo
} >"$section"
bench=$root/docs/benchmarks.md
[ -f "$bench" ] || printf '# Benchmarks\n\n' >"$bench"
python3 - "$bench" "$section" <<'PY'
import re, sys
path, section = sys.argv[1], open(sys.argv[2]).read()
text = open(path).read()
m = re.search(r'^## DNS\n.*?(?=^## |\Z)', text, re.M | re.S)
if m:
    text = text[:m.start()] + section + text[m.end():]
else:
    text = text.rstrip("\n") + "\n\n" + section
open(path, "w").write(text)
PY
rm -f "$section"
echo "written to docs/benchmarks.md"
