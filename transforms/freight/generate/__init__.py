"""Synthetic 网络货运 landing data with an exact known answer (see README.md): senders and their
SM2 keys, signed and encrypted envelopes of waybills, fund flows, vehicle and driver records with
every envelope case of freight.md, national freight platform positions, the GB/T 2260 divisions,
and the licences the qualification checks need (:func:`licence_subjects`, for the licence
generator)."""

from transforms.freight.generate.landing import (
    DEFAULT_WAYBILLS_PER_DAY,
    FreightSummary,
    generate_freight,
    licence_subjects,
)

__all__ = ["DEFAULT_WAYBILLS_PER_DAY", "FreightSummary", "generate_freight", "licence_subjects"]
