# Daily commands. Install just with `cargo install just`; every recipe is plain sh.

default:
    @just --list

# Build the release binary (target/release/raibid).
build:
    cargo build --release

# The console, on the config's settings (or the embedded defaults).
console *args:
    cargo run --release -- {{args}}

# Write a digest of the current repository: day, week or month.
digest period="week" *args:
    cargo run --release -- digest --period {{period}} {{args}}

# Drafts from the command line: list, show ID, check ID, approve ID, reject ID,
# publish ID [--channel C]... [--dry-run].
drafts *args:
    cargo run --release -- drafts {{args}}

# A scheduled run by hand, as cron and the CronJobs run it: daily, weekly or monthly.
schedule cadence *args:
    cargo run --release -- schedule run {{cadence}} {{args}}

# The API server (webhooks, job API) on the config's queue.
server *args:
    cargo run --release -- server {{args}}

# One build agent.
agent *args:
    cargo run --release -- agent {{args}}

# A pool of local agents (default: ci.agents).
pool *args:
    cargo run --release -- pool {{args}}

# CI jobs from the command line: list, show ID, logs ID --follow, trigger, cancel ID, retry ID.
jobs *args:
    cargo run --release -- jobs {{args}}

# Bring the lab up on k3s (installs k3s when absent); --dry-run, --render DIR, --only C.
up *args:
    cargo run --release -- up {{args}}

# The image every role runs from: this (release) binary on image.base, pushed to REPO,
# e.g. `just image 127.0.0.1:5000/raibid`. `raibid up` does it for the lab's own registry.
image repo *args:
    cargo run --release -- image build --push {{repo}} {{args}}

# Image build and push time and size against docker build + docker push (needs Docker,
# docker-registry, skopeo, debootstrap: as `just test` installs them).
image-bench:
    sh scripts/image-bench.sh

# Each lab component's health and the nodes' CPU, memory and GPU use.
status *args:
    cargo run --release -- status {{args}}

# Remove the lab in reverse order; --purge also deletes volumes, secrets and namespaces.
down *args:
    cargo run --release -- down {{args}}

# Check the machine and its cluster for the lab, each failure with its fix; --json.
doctor *args:
    cargo run --release -- doctor {{args}}

# GitHub mirrors in Gitea: plan, sync [REPO] [--prune], list.
mirror *args:
    cargo run --release -- mirror {{args}}

# The whole test suite (installs git, tmux and redis-server when missing).
test:
    sh scripts/test

# Optional, not CI: a digest written by a real small model on llama.cpp's server, then checked
# (the first run builds llama.cpp: 15 to 40 minutes; everything goes to target/real-model).
real-model:
    sh scripts/real-model.sh

# Formatting and lints, as CI runs them.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets --locked -- -D warnings

# Format the code.
fmt:
    cargo fmt --all

# Benchmarks; figures go to docs/benchmarks.md. RAIBID_BENCH_REPO picks the repository to collect.
bench:
    cargo bench --bench collect
    cargo bench --bench console
    cargo bench --bench queue
    cargo bench --bench dispatch
    cargo bench --bench github
    cargo bench --bench writing
    cargo bench --bench themes
    cargo bench --bench cache
    cargo bench --bench server_load

# The server under a steady push load for 60 s (RAIBID_BENCH_RATE pushes/s, default 50).
bench-server:
    cargo bench --bench server_load

# `raibid digest` end to end against `git log --numstat` (hyperfine): PATH (a repository or a folder of them) [SINCE UNTIL].
bench-digest path *range:
    sh scripts/bench-digest.sh {{path}} {{range}}

# What CI runs.
ci:
    bash .ci/run
