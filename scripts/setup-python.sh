#!/usr/bin/env bash
# Creates .venv with the Python oracles the tests compare against (scikit-learn, LightGBM).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! ldconfig -p 2>/dev/null | grep -q libgomp.so.1; then
  # LightGBM's wheel needs the GNU OpenMP runtime.
  apt-get update -qq && apt-get install -y -qq libgomp1
fi
if ! .venv/bin/python -c "import sklearn, lightgbm, pandas, pyarrow, fairlearn, tritonclient.http" 2>/dev/null; then
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -r requirements-test.txt
fi
