"""`lakehouse-dbt`: dbt's own command line, with a parse state that does not name the engine's
endpoint, so that dbt's partial parsing works from one run to the next.

dbt re-parses the whole project (≈ 6 s on 2 cores, before any model runs) when the profile's
connection keys differ from those its saved parse state (``partial_parse.msgpack``) recorded. The
pipeline's dbt steps talk to the Spark Connect server the step started, on a port that differs
from run to run, and dbt-sail counts host and port among those keys: every run used to parse the
whole project again. Nothing in the project reads the endpoint while parsing (no model or macro
uses ``target.host`` / ``target.port``), so the parse state here leaves them out; the endpoint
the connection uses is unchanged. The lake's folder is not in the parse state either: the models'
locations are lake-relative and resolved when they run (macros/location.sql).

:func:`orchestration.defs.dbt_manifest.prepare_manifest` parses with the same state, and Dagster's
dbt resource copies that ``partial_parse.msgpack`` into each run's target folder.
"""

from __future__ import annotations

import sys

PARSE_STATE = "v1: connection keys without host and port; lake-relative locations"


def leave_endpoint_out_of_parse_state() -> None:
    """dbt-sail's credentials without host and port in the keys dbt hashes into its parse state
    (they are used to connect as before)."""
    from dbt.adapters.sail.connections import SailCredentials

    def _connection_keys(self) -> tuple[str, ...]:
        return ("mode", "schema")

    SailCredentials._connection_keys = _connection_keys  # type: ignore[method-assign]


def main() -> None:
    leave_endpoint_out_of_parse_state()
    from dbt.cli.main import cli

    sys.exit(cli())


if __name__ == "__main__":
    main()
