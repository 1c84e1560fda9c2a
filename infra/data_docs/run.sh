#!/usr/bin/env bash
# run.sh start|stop|status — the lake's Great Expectations Data Docs (<lake>/ops/data_docs, rebuilt
# by every pipeline run that validated something: transforms/lake/validations.py) served as static
# files on http://127.0.0.1:$DATA_DOCS_PORT (python -m http.server, this machine only).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export LAKEHOUSE_LAKE="${LAKEHOUSE_LAKE:-$REPO/lake}"
PORT="${DATA_DOCS_PORT:-8089}"
SITE="$LAKEHOUSE_LAKE/ops/data_docs"
STATE="$REPO/.state"
PYTHON="$REPO/.venv/bin/python"
[ -x "$PYTHON" ] || PYTHON="$(command -v python3)"
mkdir -p "$STATE"

alive() { [ -f "$STATE/data-docs.pid" ] && kill -0 "$(cat "$STATE/data-docs.pid")" 2>/dev/null; }

start() {
    mkdir -p "$SITE"  # a lake no run validated yet: served empty until its first run
    if ! alive; then
        nohup "$PYTHON" -m http.server "$PORT" --bind 127.0.0.1 --directory "$SITE" \
            >"$STATE/data-docs.log" 2>&1 &
        echo $! >"$STATE/data-docs.pid"
    fi
    for _ in $(seq 1 30); do
        if curl -fsS --max-time 2 -o /dev/null "http://127.0.0.1:$PORT/" 2>/dev/null; then
            echo "data docs up on http://127.0.0.1:$PORT/index.html ($SITE)"
            return 0
        fi
        sleep 1
    done
    echo "data docs did not answer in 30 s; see $STATE/data-docs.log" >&2
    return 1
}

stop() {
    if alive; then kill "$(cat "$STATE/data-docs.pid")" && echo "stopped data docs"; fi
    rm -f "$STATE/data-docs.pid"
}

status() {
    if alive; then echo "data docs running on http://127.0.0.1:$PORT"; else echo "data docs stopped"; fi
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
