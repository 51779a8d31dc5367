#!/bin/sh
# fetch-examples.sh: fetch the official FHIR R4 examples (npm package
# hl7.fhir.r4.examples@4.0.1) into a cache directory and print its path.
#
# Idempotent: when the cache already holds the unpacked package nothing is fetched.
# Cache: $AITGW_CACHE if set, else the user cache directory ($XDG_CACHE_HOME or ~/.cache)/aitgw,
# outside the clone.
# Output (stdout, last line): the directory holding Type-id.json files.
set -eu

PKG="hl7.fhir.r4.examples"
VERSION="4.0.1"

here=$(cd "$(dirname "$0")" && pwd)
cache="${AITGW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/aitgw}"
dest="$cache/$PKG-$VERSION"

# The marker is written last, so an interrupted fetch is redone rather than trusted.
if [ -f "$dest/.complete" ]; then
	echo "$dest/package"
	exit 0
fi

command -v npm >/dev/null 2>&1 || { echo "fetch-examples: npm is required" >&2; exit 1; }
mkdir -p "$cache"
work=$(mktemp -d "$cache/.fetch.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

# npm pack prints the tarball name on its last line.
tgz=$(cd "$work" && npm pack --silent "$PKG@$VERSION" 2>/dev/null | tail -n 1)
[ -f "$work/$tgz" ] || { echo "fetch-examples: npm pack $PKG@$VERSION failed" >&2; exit 1; }
tar -xzf "$work/$tgz" -C "$work"
[ -f "$work/package/package.json" ] || { echo "fetch-examples: unexpected tarball layout" >&2; exit 1; }

rm -rf "$dest"
mkdir -p "$dest"
mv "$work/package" "$dest/package"
touch "$dest/.complete"
echo "$dest/package"
