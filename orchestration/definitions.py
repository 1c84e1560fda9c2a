"""Dagster entry point: the definitions of every domain and the resources, nothing else."""

from orchestration.defs import all_definitions
from orchestration.environment import resources

defs = all_definitions(resources())
