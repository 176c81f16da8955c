#!/bin/sh
# Writes package/gatewayd/gatewayd.hash for a release tarball made by
# `make dist VERSION=<GATEWAYD_VERSION>`.
set -eu

tarball="$1"
hash_file="$(dirname "$0")/../package/gatewayd/gatewayd.hash"
sum=$(sha256sum "$tarball" | cut -d ' ' -f 1)
name=$(basename "$tarball")
{
	echo "# Written by buildroot/scripts/update-hash.sh from the release tarball"
	echo "# \`make dist VERSION=<version>\` produced; re-run it for every release."
	printf 'sha256  %s  %s\n' "$sum" "$name"
} > "$hash_file"
