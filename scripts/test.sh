#!/usr/bin/env bash
# The whole test suite: Python oracles, the test PostgreSQL, formatting, lints, then every
# crate's tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-python.sh
# Outside CI a machine without PostgreSQL still runs the suite; its PostgreSQL tests skip.
scripts/ensure-postgres.sh || { [ -z "${CI:-}" ] && echo "note: no test PostgreSQL; its tests will skip" >&2; }
export CAPSTAN_PYTHON="$PWD/.venv/bin/python"
cargo fmt --all --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
cargo test --workspace
