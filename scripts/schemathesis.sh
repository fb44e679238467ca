#!/usr/bin/env bash
# Fuzz `capstan serve` from its own OpenAPI document with schemathesis; exits 1 when any
# request got a 5xx. Run by hand (not in CI):
#
#     bash scripts/schemathesis.sh
#     MAX_EXAMPLES=200 NO_BUILD=1 ALL_CHECKS=0 bash scripts/schemathesis.sh
#
# What it does:
#   - installs schemathesis into bench/venv-serve (gitignored) when missing;
#   - builds target/release/capstan (cargo build --release -p capstan-cli) unless NO_BUILD=1;
#   - in a temporary store: trains a 10-tree GBDT on data/telco_churn.csv, registers it twice
#     as model `churn` (version 1 alias champion, version 2 alias challenger), and creates an
#     admin API key (`capstan keys create ops --role admin`);
#   - pass "open":  `capstan serve` without --require-keys;
#     pass "keys":  `capstan serve --require-keys`;
#     both with `Authorization: Bearer <admin key>`, so the admin endpoints (aliases, rollout,
#     promote, rollback) are exercised too, and `--checks not_a_server_error`. Path parameters
#     name the real model, alias and versions 80 % of the time (schemathesis.toml written
#     here), random strings otherwise;
#   - ALL_CHECKS=1 (default): one more, informational pass with `--checks all` (conformance of
#     status codes, content types, response schemas, negative/positive data...). Its failures
#     are listed but do not change the exit status.
# Reports (schemathesis output, JUnit XML, the VCR cassette of every request) and the server
# logs go to bench/out/schemathesis/ (gitignored).
#
# Environment: MAX_EXAMPLES (default 50 per operation), SEED (default 1), VENV
# (default bench/venv-serve), NO_BUILD=1, ALL_CHECKS=0|1, PHASES (default: all of
# examples,coverage,fuzzing,stateful), KEEP=1 to keep the temporary store.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
VENV=${VENV:-$ROOT/bench/venv-serve}
MAX_EXAMPLES=${MAX_EXAMPLES:-50}
SEED=${SEED:-1}
ALL_CHECKS=${ALL_CHECKS:-1}
PHASES=${PHASES:-examples,coverage,fuzzing,stateful}
OUT=$ROOT/bench/out/schemathesis
mkdir -p "$OUT"

if [[ ! -x $VENV/bin/schemathesis ]]; then
    if [[ ! -x $VENV/bin/python ]]; then
        echo "+ python3 -m venv $VENV" >&2
        python3 -m venv "$VENV"
        echo '*' > "$VENV/.gitignore"
    fi
    echo "+ $VENV/bin/pip install schemathesis" >&2
    "$VENV/bin/pip" install -q schemathesis
fi
echo "schemathesis $("$VENV/bin/pip" show schemathesis 2>/dev/null | sed -n 's/^Version: //p')" >&2

if [[ ${NO_BUILD:-0} != 1 ]]; then
    echo "+ cargo build --release -p capstan-cli" >&2
    cargo build --release -p capstan-cli
fi
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
CAPSTAN=$TARGET_DIR/release/capstan
[[ -x $CAPSTAN ]] || { echo "error: $CAPSTAN is missing" >&2; exit 2; }

WORK=$(mktemp -d -t capstan-schemathesis.XXXXXX)
STORE=$WORK/store
SERVER_PID=
cleanup() {
    if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [[ ${KEEP:-0} == 1 ]]; then
        echo "kept $WORK" >&2
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT

cap() { "$CAPSTAN" --store "$STORE" "$@"; }

echo "+ capstan train (telco_churn, 10 trees) into $STORE" >&2
RUN_ID=$(cap train --data data/telco_churn.csv --target churn --model gbdt --n-trees 10 --json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["run_id"])')
cap models register churn --run "$RUN_ID" --alias champion >&2
cap models register churn --run "$RUN_ID" --alias challenger >&2
KEY=$(cap keys create ops --role admin --json 2>/dev/null |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')

cat > "$WORK/schemathesis.toml" <<'EOF'
[dictionaries.models]
values = ["churn"]

[dictionaries.aliases]
values = ["champion", "challenger"]

[dictionaries.versions]
values = ["1", "2"]

[parameters]
"path.name" = { dictionary = "models", probability = 0.8 }
"path.alias" = { dictionary = "aliases", probability = 0.8 }
"path.version" = { dictionary = "versions", probability = 0.8 }
EOF

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

start_server() { # $1: log file, rest: extra serve flags
    local log=$1
    shift
    PORT=$(free_port)
    # not through `cap`: a backgrounded function would leave $! naming a subshell
    "$CAPSTAN" --store "$STORE" serve --bind "127.0.0.1:$PORT" --log async "$@" > "$log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 300); do
        if grep -q "listening on" "$log"; then return 0; fi
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            echo "error: capstan serve exited while starting:" >&2
            cat "$log" >&2
            return 1
        fi
        sleep 0.1
    done
    echo "error: capstan serve did not start in 30 s" >&2
    return 1
}

stop_server() {
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
}

# $1: pass name, $2: checks, rest: extra serve flags. Prints schemathesis' output to the
# terminal and to $OUT/<pass>.txt; returns schemathesis' exit status.
run_pass() {
    local name=$1 checks=$2
    shift 2
    # each pass starts from the same registry state: v1 champion, v2 challenger, rollout off
    cap models alias churn champion 1 >/dev/null 2>&1 || true
    cap models alias churn challenger 2 >/dev/null 2>&1 || true
    cap models rollout churn --off >/dev/null 2>&1 || true
    start_server "$OUT/server-$name.log" "$@"
    echo "=== pass '$name': capstan serve $* on port $PORT, checks $checks" >&2
    local rc=0
    "$VENV/bin/schemathesis" --no-color --config-file "$WORK/schemathesis.toml" run \
        "http://127.0.0.1:$PORT/openapi.json" \
        --checks "$checks" \
        -H "Authorization: Bearer $KEY" \
        --max-examples "$MAX_EXAMPLES" --seed "$SEED" --phases "$PHASES" \
        --workers 1 --request-timeout 30 \
        --report junit,vcr --report-dir "$OUT/$name" \
        --output-sanitize false 2>&1 | tee "$OUT/$name.txt" || rc=${PIPESTATUS[0]}
    stop_server
    # a server that died under fuzzing is a finding too
    if grep -qiE "panicked|thread .* panicked" "$OUT/server-$name.log"; then
        echo "!!! capstan serve panicked during pass '$name' (see $OUT/server-$name.log)" >&2
        rc=1
    fi
    return "$rc"
}

status=0
run_pass open not_a_server_error || status=1
run_pass keys not_a_server_error --require-keys || status=1
if [[ $ALL_CHECKS == 1 ]]; then
    run_pass all-checks all || echo "(the all-checks pass is informational; see $OUT/all-checks.txt)" >&2
fi

if [[ $status == 0 ]]; then
    echo "schemathesis: no 5xx in the gated passes (open, keys); reports in $OUT" >&2
else
    echo "schemathesis: 5xx responses (or a panic) found; see $OUT/open.txt and $OUT/keys.txt" >&2
fi
exit "$status"
