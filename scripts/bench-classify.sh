#!/usr/bin/env bash
# The classification benchmarks (design brief, "Performance targets"): builds
# in release mode, runs the criterion benches and the scale program, and, when
# squidGuard is installed, times squidGuard on the same lists and requests.
# Writes the results, this command and the machine into docs/benchmarks.md
# under "## Classification", leaving the file's other sections as they are.
#
#   scripts/bench-classify.sh [--no-squidguard] [--note TEXT]
#
# Environment:
#   SCHOOLGATE_UT1_DIR        the UT1 folder (default: ../shared/data/ut1
#                             beside the repository); without it the index
#                             is synthetic only
#   SCHOOLGATE_BENCH_ENTRIES  entries in the index (default 5000000)
#   SCHOOLGATE_LOOKUPS        lookups per timing round (default 20000000)
#
# It takes about five minutes on two cores and needs about 3 GB of memory
# and 1 GB of /tmp. Nothing is left running.
set -euo pipefail

command_line="scripts/bench-classify.sh${*:+ ${*@Q}}"
squidguard=yes
note=""
while [ $# -gt 0 ]; do
    case "$1" in
        --no-squidguard) squidguard=no ;;
        --note) note="$2"; shift ;;
        *) echo "usage: scripts/bench-classify.sh [--no-squidguard] [--note TEXT]" >&2; exit 64 ;;
    esac
    shift
done

cd "$(dirname "$0")/.."
root=$(pwd)
export SCHOOLGATE_UT1_DIR="$(realpath -m "${SCHOOLGATE_UT1_DIR:-$root/../shared/data/ut1}")"
export SCHOOLGATE_BENCH_ENTRIES="${SCHOOLGATE_BENCH_ENTRIES:-5000000}"
lookups="${SCHOOLGATE_LOOKUPS:-20000000}"
work=$(mktemp -d /tmp/schoolgate-bench-classify.XXXXXX)
trap 'rm -rf "$work"' EXIT

echo "== building (release)" >&2
nice cargo build --release --quiet -p policy --example index_scale
nice cargo bench --quiet --no-run -p classify --bench classify 2>/dev/null
nice cargo bench --quiet --no-run -p policy --bench decide 2>/dev/null

load_before=$(cut -d' ' -f1-3 /proc/loadavg)

echo "== criterion: per-operation cost" >&2
rm -rf target/criterion/classify target/criterion/decide
cargo bench --quiet -p classify --bench classify -- --noplot >&2
cargo bench --quiet -p policy --bench decide -- --noplot >&2

echo "== scale program: throughput, memory, load time" >&2
export_flag=()
if [ "$squidguard" = yes ] && command -v squidGuard >/dev/null; then
    export_flag=(--export "$work/export")
fi
target/release/examples/index_scale --entries "$SCHOOLGATE_BENCH_ENTRIES" \
    --lookups "$lookups" "${export_flag[@]}" >"$work/scale.md"

# squidGuard, side by side: the same lists (one destination per category, all
# blocked) and the same requests, read offline from standard input.
squidguard_md=""
if [ ${#export_flag[@]} -gt 0 ]; then
    echo "== squidGuard on the same lists and requests" >&2
    sg="$work/export"
    mkdir -p "$sg/log"
    {
        echo "dbhome $sg/lists"
        echo "logdir $sg/log"
        for dir in "$sg"/lists/*/; do
            name=$(basename "$dir")
            echo "dest $name {"
            [ -s "$dir/domains" ] && echo "    domainlist $name/domains"
            [ -s "$dir/urls" ] && echo "    urllist $name/urls"
            echo "}"
        done
        printf 'acl {\n    default {\n        pass'
        for dir in "$sg"/lists/*/; do printf ' !%s' "$(basename "$dir")"; done
        printf ' all\n        redirect http://blocked.invalid/?url=%%u\n    }\n}\n'
    } >"$sg/squidGuard.conf"
    compile_start=$(date +%s.%N)
    squidGuard -c "$sg/squidGuard.conf" -C all 2>"$work/sg-compile.err" || true
    compile_s=$(awk -v a="$compile_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    # Requests in squid's helper format: URL client/fqdn user method.
    awk '{print $0 " 10.0.0.1/- - GET"}' "$sg/requests.txt" >"$sg/requests.sg"
    head -n 1 "$sg/requests.sg" >"$sg/one.sg"
    # Start-up alone (opening the databases), then the whole run; the
    # difference is the lookups.
    one=$( { /usr/bin/time -f "%e %U %S" squidGuard -c "$sg/squidGuard.conf" <"$sg/one.sg" >/dev/null; } 2>&1 | tail -1)
    all=$( { /usr/bin/time -f "%e %U %S %M" squidGuard -c "$sg/squidGuard.conf" <"$sg/requests.sg" >"$sg/answers"; } 2>&1 | tail -1)
    n=$(wc -l <"$sg/requests.sg")
    blocked=$(grep -c '^OK' "$sg/answers" || true)
    read -r one_s one_user one_sys <<<"$one"
    read -r all_s all_user all_sys all_kib <<<"$all"
    sg_wall=$(awk -v n="$n" -v a="$all_s" -v o="$one_s" 'BEGIN { printf "%.0f", n / (a - o) }')
    sg_cpu=$(awk -v n="$n" -v a="$all_user" -v b="$all_sys" -v c="$one_user" -v d="$one_sys" 'BEGIN { printf "%.0f", n / (a + b - c - d) }')
    ours_wall=$(grep -o 'CLASSIFY_RATE=[0-9]*' "$work/scale.md" | cut -d= -f2)
    ours_cpu=$(grep -o 'CLASSIFY_CPU_RATE=[0-9]*' "$work/scale.md" | cut -d= -f2)
    ratio_cpu=$(awk -v a="$ours_cpu" -v b="$sg_cpu" 'BEGIN { printf "%.0f", a / b }')
    ratio_wall=$(awk -v a="$ours_wall" -v b="$sg_wall" 'BEGIN { printf "%.0f", a / b }')
    squidguard_md=$(cat <<EOF

### squidGuard, measured side by side

squidGuard $(dpkg-query -W -f '${Version}' squidguard) (Berkeley DB $(squidGuard -v 2>&1 | grep -o 'Berkeley DB [0-9.]*' | cut -d' ' -f3)) from Debian's package, run offline in the same run: the same
lists written out as one squidGuard destination per category, every destination blocked
(\`pass !a !b ... all\`), the first $n URLs of the same request mix on standard input in
squid's helper format, answers to a file. One process, as squid runs each helper: one core.

| | squidGuard | schoolgate |
|---|---|---|
| compile the lists (\`squidGuard -C all\`; schoolgate: the build above) | ${compile_s} s | see above |
| start-up and one request (wall clock) | ${one_s} s | see load time above |
| lookups per CPU-second (whole run less start-up) | $sg_cpu | $ours_cpu |
| lookups per second by the wall clock | $sg_wall | $ours_wall |
| resident memory at the end (max RSS) | $((all_kib / 1024)) MiB | see above |
| requests answered with a redirect (schoolgate: listed, above) | $blocked of $n | |

schoolgate classifies **${ratio_cpu}×** as many URLs per CPU-second as squidGuard on this
machine (${ratio_wall}× by the wall clock). squidGuard stops at the first destination that
matches, while schoolgate finds every list that holds the URL, so for listed URLs squidGuard
does less work than schoolgate here.
EOF
)
    [ -s "$work/sg-compile.err" ] && grep -v '^$' "$work/sg-compile.err" | tail -n 3 >&2 || true
fi

load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# Criterion's estimates, mean and its 95% interval, in ns.
crit_row() {
    local dir="target/criterion/$1/new/estimates.json"
    [ -f "$dir" ] || return 0
    jq -r --arg name "$2" '.mean |
        "| \($name) | \(.point_estimate | floor) [\(.confidence_interval.lower_bound | floor), \(.confidence_interval.upper_bound | floor)] | \(1e9 / .point_estimate / 1e6 * 100 | floor / 100)M |"' "$dir"
}

if git diff --quiet HEAD -- crates/classify/src/canon.rs; then
    canon="the committed \`crates/classify/src/canon.rs\`"
else
    canon="an uncommitted \`crates/classify/src/canon.rs\` (blob $(git hash-object crates/classify/src/canon.rs | cut -c1-12))"
fi

section="$work/section.md"
{
    echo "## Classification"
    echo
    echo "Command (run $(date -u '+%Y-%m-%d %H:%M UTC')):"
    echo
    echo '```sh'
    echo "$command_line"
    echo '```'
    echo
    cpu_field() { grep -m1 "^$1[[:space:]]*:" /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'; }
    l3=$(lscpu 2>/dev/null | awk -F: '/^L3 cache/ {gsub(/^ +/, "", $2); print $2}')
    echo "Machine: $(nproc) cores, $(cpu_field 'model name') (family $(cpu_field 'cpu family'), model $(cpu_field model), $(cpu_field 'cpu MHz' | cut -d. -f1) MHz${l3:+, L3 $l3}), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), Linux $(uname -r), $(rustc --version). Load average $load_before before, $load_after after: the machine is shared with other builds, so rates vary by 10–30% from run to run."
    echo
    echo "Source: commit $(git rev-parse --short HEAD) with $canon.${note:+ $note}"
    echo
    echo "### Targets and throughput (\`policy/examples/index_scale.rs\`)"
    echo
    grep -v 'CLASSIFY_RATE=' "$work/scale.md"
    echo
    echo "### Cost of one operation (criterion, \`classify/benches/classify.rs\`, \`policy/benches/decide.rs\`)"
    echo
    echo "Each iteration takes the next URL of the same request mix (1,000,000 URLs), so caches see varied traffic. Criterion here measures the benchmark thread's CPU time (\`classify/benches/support/cpu_time.rs\`), not wall time, for the same reason as above."
    echo
    echo "| benchmark | mean ns of CPU [95% interval] | per CPU-second |"
    echo "|---|---|---|"
    crit_row classify/canonicalise "canonicalise (\`CanonUrl::parse_into\`)"
    crit_row "classify/canonicalise+classify" "canonicalise + \`Index::classify\`"
    crit_row classify/classify "\`Index::classify\`, parsed URL"
    crit_row classify/classify_host "\`Index::classify_host\`"
    crit_row "decide/canonicalise+decide-ks2" "canonicalise + \`Engine::decide\` (ks2)"
    crit_row "decide/canonicalise+decide-ks2+statutory" "canonicalise + \`Engine::decide\` (ks2), IWF and CTIRU lists loaded"
    if [ -n "$squidguard_md" ]; then
        echo "$squidguard_md"
    fi
    echo
    echo "### Peers not measured here"
    echo
    ufdb=$(apt-cache policy ufdbguard 2>/dev/null | grep -c Candidate || true)
    if [ "$ufdb" = 0 ]; then
        echo "ufdbGuard is not packaged in this Debian release (\`apt-cache policy ufdbguard\` finds nothing), so only its published figure is compared above."
    else
        echo "ufdbGuard is packaged here but was not measured."
    fi
    if [ -z "$squidguard_md" ]; then
        echo "squidGuard was not measured in this run (\`--no-squidguard\`, or not installed); only its published figure is compared above."
    fi
} >"$section"

doc=docs/benchmarks.md
mkdir -p docs
if [ ! -f "$doc" ]; then
    cat >"$doc" <<'EOF'
# Benchmarks

Every benchmark writes its results here, with the command that produced them
and the machine it ran on. Targets are in the design brief, "Performance
targets"; what the peers reach on a machine like ours is in `PEERS.md` there.
These are benchmarks, not timed tests: numbers on a shared machine vary, so
compare figures measured in the same run.
EOF
fi
# Replace the Classification section (up to the next "## " heading), or add it.
awk -v section="$section" '
    BEGIN { while ((getline line < section) > 0) text = text line "\n" }
    /^## / && skipping { skipping = 0; print "" }
    /^## Classification[[:space:]]*$/ { printf "%s", text; done = 1; skipping = 1; next }
    skipping { next }
    { print }
    END { if (!done) printf "\n%s", text }
' "$doc" >"$work/doc.md"
# A replaced section is followed directly by the next heading: keep a blank line.
mv "$work/doc.md" "$doc"
echo "== wrote $doc" >&2
