#!/bin/sh
# Builds data/starter/blacklists.tar.gz, the UT1 subset that ships with
# schoolgate so that a fresh install blocks real sites (see data/starter/README.md).
#
# Usage: scripts/make-starter.sh [UT1_DIR] [OUTPUT]
#   UT1_DIR  a UT1 blacklists folder (default /work/shared/data/ut1)
#   OUTPUT   the archive to write (default data/starter/blacklists.tar.gz)
#
# The archive is byte-for-byte reproducible: entries are sorted, every mtime is
# fixed, owners are 0 and gzip stores no name or time. It has the layout of the
# UT1 distribution: blacklists/<category>/{domains,urls,usage}, aliases as
# symbolic links, and blacklists/global_usage.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
src=${1:-/work/shared/data/ut1}
out=${2:-$here/data/starter/blacklists.tar.gz}

# strict_redirector and strong_redirector repeat redirector's 132,000 domains
# with a few extra URLs; shipping them would double the bundle for nothing.
left_out="strict_redirector strong_redirector"
# White lists that are small and useful to schoolgate's education category.
white_kept="child educational_games sexual_education"

if [ ! -f "$src/global_usage" ]; then
    echo "make-starter: $src does not look like a UT1 blacklists folder (no global_usage); pass the folder as the first argument" >&2
    exit 64
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT INT TERM
mkdir "$stage/blacklists"

is_kept() {
    name=$1
    for skip in $left_out; do [ "$name" = "$skip" ] && return 1; done
    for keep in $white_kept; do [ "$name" = "$keep" ] && return 0; done
    # "usage says black": any uncommented line of the usage file is exactly "black".
    [ -f "$src/$name/usage" ] && tr -d '\r' < "$src/$name/usage" | grep -v '^#' | grep -qx 'black'
}

for dir in "$src"/*/; do
    name=$(basename "$dir")
    if [ -L "$src/$name" ] || ! is_kept "$name"; then continue; fi
    mkdir "$stage/blacklists/$name"
    for file in domains urls usage; do
        if [ -f "$src/$name/$file" ]; then
            cp "$src/$name/$file" "$stage/blacklists/$name/$file"
        fi
    done
done

# Aliases are symbolic links in the UT1 distribution. A git checkout without
# symlink support turns each into a small file holding the target's name.
for entry in "$src"/*; do
    name=$(basename "$entry")
    if [ -L "$entry" ]; then
        target=$(basename "$(readlink "$entry")")
    elif [ -f "$entry" ] && [ "$(wc -c < "$entry")" -lt 64 ] && [ -s "$entry" ]; then
        target=$(tr -d '\n\r' < "$entry")
        if [ ! -d "$src/$target" ]; then continue; fi
    else
        continue
    fi
    # Only link to folders the bundle holds, so no link dangles.
    if [ -d "$stage/blacklists/$target" ]; then
        ln -s "$target" "$stage/blacklists/$name"
    fi
done

cp "$src/global_usage" "$stage/blacklists/global_usage"

chmod -R u=rwX,go=rX "$stage/blacklists"
mkdir -p "$(dirname "$out")"
(cd "$stage" && LC_ALL=C tar --sort=name --format=gnu --mtime=@0 \
    --owner=0 --group=0 --numeric-owner -cf - blacklists) | gzip -n -9 > "$out.tmp"
mv "$out.tmp" "$out"
echo "make-starter: wrote $out ($(wc -c < "$out") bytes)"
