# Sourced by bootstrap.sh and run.sh: one place that resolves paths, env and defaults.
SUPERSET_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SUPERSET_DIR/../.." && pwd)"

export SUPERSET_HOME="${SUPERSET_HOME:-$REPO_ROOT/.superset}"
export SUPERSET_CONFIG_PATH="${SUPERSET_CONFIG_PATH:-$SUPERSET_DIR/superset_config.py}"
export LAKEHOUSE_LAKE="${LAKEHOUSE_LAKE:-$REPO_ROOT/lake}"
export SUPERSET_PORT="${SUPERSET_PORT:-8088}"
export SUPERSET_SERVING_DB="${SUPERSET_SERVING_DB:-$SUPERSET_HOME/serving.duckdb}"
export SUPERSET_EXTENSION_DIR="${SUPERSET_EXTENSION_DIR:-$SUPERSET_HOME/duckdb_extensions}"
export SUPERSET_USERS_FILE="${SUPERSET_USERS_FILE:-$SUPERSET_DIR/users.yaml}"
export FLASK_APP=superset
SUPERSET_VENV="${SUPERSET_VENV:-$REPO_ROOT/.venv-superset}"
SUPERSET_PY="$SUPERSET_VENV/bin/python"
SUPERSET_BIN="$SUPERSET_VENV/bin/superset"
GUNICORN_BIN="$SUPERSET_VENV/bin/gunicorn"

mkdir -p "$SUPERSET_HOME"
# the state dir ignores itself, whatever the repo's .gitignore says
[ -f "$SUPERSET_HOME/.gitignore" ] || printf '*\n' > "$SUPERSET_HOME/.gitignore"
