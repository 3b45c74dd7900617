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

# Drafts from the command line: list, show ID, approve ID, reject ID, publish ID.
drafts *args:
    cargo run --release -- drafts {{args}}

# The whole test suite (installs git and tmux when missing).
test:
    sh scripts/test

# Formatting and lints, as CI runs them.
lint:
    cargo fmt --all -- --check
    cargo clippy --all-targets --locked -- -D warnings

# Format the code.
fmt:
    cargo fmt --all

# Benchmarks; figures go to docs/benchmarks.md. RAIBID_BENCH_REPO picks the repository to collect.
bench:
    cargo bench --bench collect
    cargo bench --bench console

# What CI runs.
ci:
    bash .ci/run
