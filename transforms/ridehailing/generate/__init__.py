"""Synthetic 网约车 landing data with an exact known answer (see README.md): platform companies,
their permits, drivers, vehicles and passengers (every baseInfo* interface with updates and
deletes), orders through their lifecycle, shifts, positions, ratings; defects of each dimension
at known rates, re-sends, outages, malformed and keyless lines, a silent company; and the
licences the truthfulness checks need (:func:`licence_subjects`, for the licence generator)."""

from transforms.ridehailing.generate.landing import (
    DEFAULT_ORDERS_PER_DAY,
    DEFAULT_POSITION_INTERVAL_S,
    RidehailingSummary,
    generate_ridehailing,
    licence_subjects,
)

__all__ = [
    "DEFAULT_ORDERS_PER_DAY",
    "DEFAULT_POSITION_INTERVAL_S",
    "RidehailingSummary",
    "generate_ridehailing",
    "licence_subjects",
]
