#!/usr/bin/env bash
# run.sh start|stop|status — Superset under gunicorn on 127.0.0.1:$SUPERSET_PORT (default 8088).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

PID_FILE="$SUPERSET_HOME/gunicorn.pid"
LOG_FILE="$SUPERSET_HOME/superset.log"
URL="http://127.0.0.1:$SUPERSET_PORT"
START_TIMEOUT="${SUPERSET_START_TIMEOUT:-120}"

running_pid() {
    local pid
    [ -f "$PID_FILE" ] || return 1
    pid="$(cat "$PID_FILE" 2>/dev/null)" || return 1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

healthy() { curl -fsS --max-time 5 "$URL/health" >/dev/null 2>&1; }

start() {
    if pid="$(running_pid)"; then
        echo "superset already running (pid $pid) on $URL"
        return 0
    fi
    rm -f "$PID_FILE"
    : >> "$LOG_FILE"
    # --daemon: gunicorn detaches and writes the master pid to $PID_FILE
    "$GUNICORN_BIN" --daemon --pid "$PID_FILE" \
        --bind "127.0.0.1:$SUPERSET_PORT" --workers 2 --worker-class gthread --threads 4 \
        --timeout 120 --limit-request-line 0 --limit-request-field_size 0 \
        --access-logfile "$LOG_FILE" --error-logfile "$LOG_FILE" --capture-output \
        "superset.app:create_app()"
    local waited=0
    until healthy; do
        if [ "$waited" -ge "$START_TIMEOUT" ]; then
            echo "superset did not answer $URL/health within ${START_TIMEOUT}s; log tail:" >&2
            tail -n 40 "$LOG_FILE" >&2
            stop >/dev/null 2>&1 || true
            return 1
        fi
        if [ "$waited" -gt 5 ] && ! running_pid >/dev/null; then
            echo "superset exited during start; log tail:" >&2
            tail -n 40 "$LOG_FILE" >&2
            return 1
        fi
        sleep 1
        waited=$((waited + 1))
    done
    echo "superset up on $URL (pid $(cat "$PID_FILE"), log $LOG_FILE)"
}

stop() {
    local pid
    if ! pid="$(running_pid)"; then
        echo "superset not running"
        rm -f "$PID_FILE"
        return 0
    fi
    kill -TERM "$pid"
    for _ in $(seq 1 30); do
        kill -0 "$pid" 2>/dev/null || { rm -f "$PID_FILE"; echo "superset stopped"; return 0; }
        sleep 1
    done
    echo "superset (pid $pid) ignored TERM for 30s; sending KILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$PID_FILE"
}

status() {
    if pid="$(running_pid)"; then
        if healthy; then echo "superset running (pid $pid) on $URL, healthy"; return 0; fi
        echo "superset running (pid $pid) on $URL, NOT healthy"; return 1
    fi
    echo "superset not running"; return 3
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
