#!/usr/bin/env bash
# The reports' benchmark: the weekly report of attempts to reach restricted
# material over a store with EVENTS activity events (10 million by default),
# seeded by the console benchmark's own seeding
# (crates/console/examples/bench_console.rs seed: 13 weeks of school hours,
# 5% blocked, 50,000 people), then timed end to end by
# crates/store/examples/bench_reports.rs (release build) for the last WEEKS
# full weeks (4 by default), and the governors' report for this term.
#
#   scripts/bench-reports.sh [EVENTS] [WEEKS]
#
# Writes (or replaces) the "Reports" section of docs/benchmarks.md; other
# sections are left as they are. The seeded store is shared with
# scripts/bench-console.sh (target/bench-console/), so a store seeded by
# either is reused.
set -euo pipefail

events=${1:-10000000}
weeks=${2:-4}
people=50000
root=$(cd "$(dirname "$0")/.." && pwd)
work=$root/target/bench-console
mkdir -p "$work"
db=$work/activity-$events.db

cd "$root"
cargo build --release --locked -p console --example bench_console
cargo build --release --locked -p store --example bench_reports
seeder=$root/target/release/examples/bench_console
tool=$root/target/release/examples/bench_reports

seeding="already seeded"
if [ ! -f "$db" ]; then
    rm -f "$db-wal" "$db-shm"
    seeding=$("$seeder" seed "$db" "$events" "$people")
    echo "$seeding"
fi
size=$(du -m "$db" | cut -f1)
table=$("$tool" "$db" "$weeks")
echo "$table"

cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
section=$(mktemp)
{
    echo "## Reports"
    echo
    echo "\`scripts/bench-reports.sh $events $weeks\` on $(date -u +%Y-%m-%d), $(nproc) cores ($cpu), shared"
    echo "with other work (load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)). The store is the"
    echo "console benchmark's: $events activity events and $people people in SQLite ($size MB), school"
    echo "hours over the last 13 weeks, 5% blocked. Seeding: $seeding."
    echo "Each line is one report made end to end as \`schoolgate report\` and the console make it: the"
    echo "counts in SQL (through the partial index of events that were not simply allowed), the people"
    echo "list, the report, and its HTML and CSV. The database file fits in the page cache; reads from"
    echo "a cold disk are not measured."
    echo
    echo "$table"
    echo
    echo "Target: the weekly report for a 1,000-pupil school with 10 million events in at most 5 seconds."
    echo
} >"$section"
python3 "$root/scripts/bench/replace-section.py" "$root/docs/benchmarks.md" "$section"
rm -f "$section"
echo "written to docs/benchmarks.md"
