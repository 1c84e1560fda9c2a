#!/usr/bin/env bash
# run.sh start|stop|status — the Dagster UI (dagster-webserver + daemon, one code server on
# 127.0.0.1:$DAGSTER_CODE_PORT) on 127.0.0.1:$DAGSTER_PORT.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export LAKEHOUSE_LAKE="${LAKEHOUSE_LAKE:-$REPO/lake}"
export DAGSTER_HOME="${DAGSTER_HOME:-$LAKEHOUSE_LAKE/_dagster}"
# the keys of sensitive fields (lakehouse keys init), wherever the code server's cwd is
export LAKEHOUSE_KEYS="${LAKEHOUSE_KEYS:-$REPO/keys}"
PORT="${DAGSTER_PORT:-3000}"
CODE_PORT="${DAGSTER_CODE_PORT:-4266}"
STATE="$REPO/.state"
BIN="$REPO/.venv/bin"
mkdir -p "$STATE" "$DAGSTER_HOME"
[ -f "$DAGSTER_HOME/dagster.yaml" ] || cp "$REPO/infra/dagster/dagster.yaml" "$DAGSTER_HOME/dagster.yaml"

alive() { [ -f "$STATE/$1.pid" ] && kill -0 "$(cat "$STATE/$1.pid")" 2>/dev/null; }

start() {
    cd "$REPO"
    # one code server for the UI and the daemon: given a module, the daemon would start a new
    # code server every minute (its workspace reload) and load the definitions again — ~9 s
    # of CPU a minute on 2 cores, felt by every dashboard and query on the machine
    if ! alive dagster-code-server; then
        nohup "$BIN/dagster" code-server start -h 127.0.0.1 -p "$CODE_PORT" \
            -m orchestration.definitions >"$STATE/dagster-code-server.log" 2>&1 &
        echo $! >"$STATE/dagster-code-server.pid"
    fi
    cat >"$STATE/workspace.yaml" <<YAML
load_from:
  - grpc_server:
      host: 127.0.0.1
      port: $CODE_PORT
      location_name: orchestration.definitions
YAML
    for _ in $(seq 1 180); do  # the definitions load before the server answers
        if "$BIN/dagster" api grpc-health-check -p "$CODE_PORT" >/dev/null 2>&1; then break; fi
        alive dagster-code-server || { echo "code server failed; see $STATE/dagster-code-server.log" >&2; return 1; }
        sleep 1
    done
    if ! alive dagster-webserver; then
        nohup "$BIN/dagster-webserver" -h 127.0.0.1 -p "$PORT" -w "$STATE/workspace.yaml" \
            >"$STATE/dagster-webserver.log" 2>&1 &
        echo $! >"$STATE/dagster-webserver.pid"
    fi
    if ! alive dagster-daemon; then
        nohup "$BIN/dagster-daemon" run -w "$STATE/workspace.yaml" \
            >"$STATE/dagster-daemon.log" 2>&1 &
        echo $! >"$STATE/dagster-daemon.pid"
    fi
    for _ in $(seq 1 120); do
        if curl -fsS --max-time 2 "http://127.0.0.1:$PORT/server_info" >/dev/null 2>&1; then
            echo "dagster UI up on http://127.0.0.1:$PORT (DAGSTER_HOME=$DAGSTER_HOME)"
            return 0
        fi
        sleep 1
    done
    echo "dagster UI did not answer in 120 s; see $STATE/dagster-webserver.log" >&2
    return 1
}

# TERM, then KILL what is still there after 10 s — with its children: the code server ignores
# TERM while its gRPC process (a child) runs
end() {
    local pid=$1 kids
    kids=$(pgrep -P "$pid" || true)
    kill "$pid" $kids 2>/dev/null || true
    for _ in $(seq 1 20); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.5
    done
    kill -9 "$pid" $kids 2>/dev/null || true
}

stop() {
    for name in dagster-webserver dagster-daemon dagster-code-server; do
        if alive "$name"; then end "$(cat "$STATE/$name.pid")" && echo "stopped $name"; fi
        rm -f "$STATE/$name.pid"
    done
}

status() {
    for name in dagster-webserver dagster-daemon dagster-code-server; do
        if alive "$name"; then echo "$name running"; else echo "$name stopped"; fi
    done
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
