"""THE list of domains. Landing, the table registry, the rules file, the Dagster definitions, the
pipeline, the CLI and the Superset serving all iterate it: adding a domain is its own packages
(``transforms/<d>/``, ``orchestration/defs/<d>/``, ``orchestration/cli/<d>.py``, dbt models under
``models/*/<d>/``, ``infra/superset/dashboards/<d>/``) and one line here.
"""

from transforms.freight.domain import DOMAIN as FREIGHT
from transforms.lake.domain import Domain
from transforms.licences.domain import DOMAIN as LICENCES
from transforms.ridehailing.domain import DOMAIN as RIDEHAILING
from transforms.telematics.domain import DOMAIN as TELEMATICS

# licences first: a run verifies the licences the other domains check qualifications against
DOMAINS: tuple[Domain, ...] = (LICENCES, TELEMATICS, FREIGHT, RIDEHAILING)


def domain(name: str) -> Domain:
    """The domain called ``name``; a clear error for an unknown one."""
    for d in DOMAINS:
        if d.name == name:
            return d
    raise KeyError(f"unknown domain {name!r}; known: {', '.join(d.name for d in DOMAINS)}")
