"""Synthetic licences (电子证照) landing data with an exact known answer: the issuing authorities'
SM2 keys and signed licence records for the enterprises and vehicles the telematics generator
wrote, their drivers and a ride-hailing (网约车) fleet — some changed, suspended, revoked,
cancelled or expired, and a few forged (see landing.py and README.md) — plus the licences other
domains' generators ask for (`extra`, see extra.py)."""

from transforms.licences.generate.extra import ExtraLicence, ExtraVersion
from transforms.licences.generate.landing import LicenceSummary, generate_licences

__all__ = ["ExtraLicence", "ExtraVersion", "LicenceSummary", "generate_licences"]
