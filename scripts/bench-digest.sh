#!/bin/sh
# Figures for docs/benchmarks.md: `raibid digest` end to end (start, config, collecting the
# period and the one before it, analysis, the built-in writer, storing the draft) against
# `git log --numstat` over the period, side by side with hyperfine (Debian: hyperfine).
#
#   scripts/bench-digest.sh REPO [SINCE UNTIL]
#
# SINCE/UNTIL are dates as `raibid digest --since/--until` take them (default: the whole
# history, from the day of the first commit to tomorrow: a range of a century makes the
# digest's daily figures, not the collecting, the cost). RAIBID_BIN picks the binary (default: target/release/raibid, built first);
# RUNS the runs of each (default 10).
set -eu
repo=$(cd "$1" && pwd)
since=${2:-$(git -C "$repo" log --reverse --format=%cs | head -n 1)}
until=${3:-$(date -u -d tomorrow +%F)}
cd "$(dirname "$0")/.."
bin=${RAIBID_BIN:-}
if [ -z "$bin" ]; then
    cargo build --release --locked --quiet --bin raibid
    bin=$PWD/target/release/raibid
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '[sparky]\nwriter = "builtin"\n' >"$work/config.toml"
# git's --until is inclusive: one second before raibid's exclusive end.
git_until=$(date -u -d "$until - 1 second" +%Y-%m-%dT%H:%M:%SZ)
export XDG_DATA_HOME="$work/data" XDG_CONFIG_HOME="$work/config" TZ=UTC
hyperfine --warmup 1 --runs "${RUNS:-10}" --export-markdown "$work/table.md" \
    -n "raibid digest" "$bin --config $work/config.toml digest --repo $repo --since $since --until $until" \
    -n "git log --numstat" "git -C $repo log --numstat --since-as-filter=$since --until=$git_until"
cat "$work/table.md"
