#!/usr/bin/env bash
# Non-interactive, idempotent Superset bootstrap: serving DuckDB file -> metadata DB upgrade ->
# admin user -> roles -> dashboards-as-code import -> users, roles and row-level security of
# $SUPERSET_USERS_FILE (default infra/superset/users.yaml; access.py prints what it changed).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

ADMIN_USER="${SUPERSET_ADMIN_USER:-admin}"
if [ -z "${SUPERSET_ADMIN_PASSWORD:-}" ]; then
    SUPERSET_ADMIN_PASSWORD="lakehouse-demo"
    echo "bootstrap: SUPERSET_ADMIN_PASSWORD unset, using the DEMO password '$SUPERSET_ADMIN_PASSWORD'"
fi

step() { echo "bootstrap: $*"; }

step "serving DB $SUPERSET_SERVING_DB over lake $LAKEHOUSE_LAKE"
"$SUPERSET_PY" "$SUPERSET_DIR/serving.py" --lake "$LAKEHOUSE_LAKE" \
    --out "$SUPERSET_SERVING_DB" --extension-dir "$SUPERSET_EXTENSION_DIR"

step "bundle from infra/superset/dashboards/"
BUNDLE="$SUPERSET_HOME/dashboards_bundle.zip"
"$SUPERSET_PY" "$SUPERSET_DIR/build_bundle.py" --serving-db "$SUPERSET_SERVING_DB" \
    --extension-dir "$SUPERSET_EXTENSION_DIR" --out "$BUNDLE"

step "superset db upgrade"
"$SUPERSET_BIN" db upgrade

step "admin user '$ADMIN_USER'"
CREATED="$("$SUPERSET_BIN" fab create-admin --username "$ADMIN_USER" --firstname Lakehouse \
    --lastname Admin --email "${SUPERSET_ADMIN_EMAIL:-$ADMIN_USER@lakehouse.local}" \
    --password "$SUPERSET_ADMIN_PASSWORD")"
echo "$CREATED"
if [[ "$CREATED" == *"already exists"* ]]; then
    # create-admin leaves an existing user alone: make the env password authoritative
    "$SUPERSET_BIN" fab reset-password --username "$ADMIN_USER" --password "$SUPERSET_ADMIN_PASSWORD"
fi

step "superset init"
"$SUPERSET_BIN" init

step "import dashboards"
"$SUPERSET_BIN" import-dashboards -p "$BUNDLE" -u "$ADMIN_USER"

step "users, roles and row-level security from $SUPERSET_USERS_FILE"
"$SUPERSET_PY" "$SUPERSET_DIR/access.py" apply --users "$SUPERSET_USERS_FILE"
step "done; start the server with infra/superset/run.sh start"
