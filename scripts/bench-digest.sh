#!/bin/sh
# Figures for docs/benchmarks.md: `raibid digest` end to end (start, config, collecting the
# period and the one before it, analysis, the built-in writer, storing the draft) against
# `git log --numstat` over the period, side by side with hyperfine (Debian: hyperfine).
#
#   scripts/bench-digest.sh PATH [SINCE UNTIL]
#
# PATH is one repository, or a folder of repositories (an organisation: the digest scans
# it, git runs over each repository one after another). SINCE/UNTIL are dates as
# `raibid digest --since/--until` take them (default: the whole history, from the day of the
# first commit to tomorrow). The digest runs twice: "cold" with its cache of line counts
# emptied before each run, as a first digest of the history would; "warm" with the counts a
# previous digest remembered, as every later one does. RAIBID_BIN picks the binary (default:
# target/release/raibid, built first); RUNS the runs of each (default 10).
set -eu
path=$(cd "$1" && pwd)
if git -C "$path" rev-parse --git-dir >/dev/null 2>&1; then
    repos=$path
    source="--repo $path"
else
    repos=$(for repo in "$path"/*/; do echo "${repo%/}"; done)
    source=""
fi
first_day() {
    for repo in $repos; do git -C "$repo" log --reverse --format=%cs | head -n 1; done | sort | head -n 1
}
since=${2:-$(first_day)}
until=${3:-$(date -u -d tomorrow +%F)}
cd "$(dirname "$0")/.."
bin=${RAIBID_BIN:-}
if [ -z "$bin" ]; then
    cargo build --release --locked --quiet --bin raibid
    bin=$PWD/target/release/raibid
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
{
    printf '[sparky]\nwriter = "builtin"\n'
    [ -n "$source" ] || printf 'scan = ["%s"]\n' "$path"
} >"$work/config.toml"
# git's --until is inclusive: one second before raibid's exclusive end.
git_until=$(date -u -d "$until - 1 second" +%Y-%m-%dT%H:%M:%SZ)
for repo in $repos; do
    echo "git -C $repo log --numstat --since-as-filter=$since --until=$git_until"
done >"$work/git.sh"
export XDG_DATA_HOME="$work/data" XDG_CONFIG_HOME="$work/config" TZ=UTC
digest="$bin --config $work/config.toml digest $source --since $since --until $until"
# One --prepare per command: given once, hyperfine runs it before every command.
hyperfine --warmup 1 --runs "${RUNS:-10}" --export-markdown "$work/table.md" \
    --prepare "rm -rf $XDG_DATA_HOME/raibid/numstat" --prepare true --prepare true \
    -n "raibid digest, cold" "$digest" \
    -n "raibid digest, warm" "$digest" \
    -n "git log --numstat" "sh $work/git.sh"
cat "$work/table.md"
