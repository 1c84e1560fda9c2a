"""Synthetic licences (电子证照) landing data with an exact known answer: the issuing authorities'
SM2 keys and signed licence records for the enterprises and vehicles the telematics generator
wrote, their drivers and a ride-hailing (网约车) fleet — some changed, suspended, revoked,
cancelled or expired, and a few forged (see landing.py and README.md)."""

from transforms.licences.generate.landing import LicenceSummary, generate_licences

__all__ = ["LicenceSummary", "generate_licences"]
