"""Synthetic telematics landing data (pure Python + numpy) with an exact known answer.

``generate_landing`` writes master data and position files under ``<lake>/landing/telematics/`` and
returns a :class:`GenerationSummary` that end-to-end tests assert the pipeline against.
"""

from transforms.generate.landing import GenerationSummary, generate_landing

__all__ = ["GenerationSummary", "generate_landing"]
