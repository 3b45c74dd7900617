#!/bin/sh
# The Debian base of the image tests and the image bench: bookworm minbase with
# ca-certificates and git, built with debootstrap from the Debian mirror (about a minute)
# once per machine, as a root file system tarball: $CACHE/bookworm-minbase.tar.
set -e
CACHE=${CACHE:-/var/cache/raibid-test}
mkdir -p "$CACHE"
exec 9>"$CACHE/debootstrap.lock"
flock 9
[ -f "$CACHE/bookworm-minbase.tar" ] && exit 0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if ! debootstrap --variant=minbase --include=ca-certificates,git bookworm "$work/root" >"$work/log" 2>&1; then
    tail -20 "$work/log" >&2
    exit 1
fi
tar -C "$work/root" -cf "$CACHE/bookworm-minbase.tar.partial" .
mv "$CACHE/bookworm-minbase.tar.partial" "$CACHE/bookworm-minbase.tar"
