#!/bin/sh
# Figures for docs/benchmarks.md: `raibid image build` (cold base cache, warm cache into a
# new repository, unchanged rebuild) against `docker build` + `docker push` of the
# equivalent Containerfile, both on the tests' Debian base in a local docker-registry.
# RAIBID_BIN picks the binary (default: target/release/raibid, built first).
set -eu
cd "$(dirname "$0")/.."
bin=${RAIBID_BIN:-}
if [ -z "$bin" ]; then
    cargo build --release --quiet
    bin=$PWD/target/release/raibid
fi
CACHE=${CACHE:-/var/cache/raibid-test}
sh scripts/test-base.sh
docker info >/dev/null 2>&1 || { echo "dockerd is not running (scripts/test starts it)" >&2; exit 1; }

work=$(mktemp -d)
port=$(shuf -i 30000-32767 -n 1)
host=127.0.0.1:$port
printf 'version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s/registry\nhttp:\n  addr: %s\n' \
    "$work" "$host" >"$work/registry.yml"
docker-registry serve "$work/registry.yml" >/dev/null 2>&1 &
registry=$!
trap 'kill $registry; docker rmi -f $host/raibid-docker:bench >/dev/null 2>&1; rm -rf "$work"' EXIT
while ! (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && ! curl -s "http://$host/v2/" >/dev/null; do sleep 0.1; done

docker image inspect raibid-test/debian:bookworm >/dev/null 2>&1 ||
    docker import "$CACHE/bookworm-minbase.tar" raibid-test/debian:bookworm >/dev/null
skopeo copy --quiet --dest-tls-verify=false docker-daemon:raibid-test/debian:bookworm \
    "docker://$host/debian:bookworm"

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
# Compressed size of an image in the registry: its config and layers, in MB.
size() {
    curl -s -H 'Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' \
        "http://$host/v2/$1/manifests/$2" |
        python3 -c 'import json,sys; m=json.load(sys.stdin); print(round((m["config"]["size"]+sum(l["size"] for l in m["layers"]))/1e6, 1))'
}
build() {
    XDG_DATA_HOME="$work/data" "$bin" image build --json --base "$host/debian:bookworm" --push "$host/$1"
}

echo "binary: $bin ($(du -m "$bin" | cut -f1) MB)"
start=$(now); build raibid:bench >/dev/null; cold=$(since "$start")
start=$(now); build raibid-warm:bench >/dev/null; warm=$(since "$start")
start=$(now); build raibid:bench >/dev/null; same=$(since "$start")

mkdir "$work/context"
cp "$bin" "$work/context/raibid"
printf 'FROM %s/debian:bookworm\nCOPY raibid /usr/local/bin/raibid\nENTRYPOINT ["/usr/local/bin/raibid"]\n' \
    "$host" >"$work/context/Containerfile"
start=$(now)
DOCKER_BUILDKIT=0 docker build -q -f "$work/context/Containerfile" -t "$host/raibid-docker:bench" "$work/context" >/dev/null
docker push -q "$host/raibid-docker:bench" >/dev/null
docker_time=$(since "$start")
docker rmi -f "$host/debian:bookworm" >/dev/null 2>&1 || true

echo "| | seconds | image MB (compressed) |"
echo "|---|---|---|"
echo "| raibid image build, cold cache (pull base, push all) | $cold | $(size raibid bench) |"
echo "| raibid image build, warm cache, new repository | $warm | |"
echo "| raibid image build, unchanged (nothing uploaded) | $same | |"
echo "| docker build + docker push (base pulled, then pushed) | $docker_time | $(size raibid-docker bench) |"
