#!/usr/bin/env bash
# The whole test suite: Python oracles, formatting, lints, then every crate's tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-python.sh
export CAPSTAN_PYTHON="$PWD/.venv/bin/python"
cargo fmt --all --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
cargo test --workspace
